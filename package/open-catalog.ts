import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { AnvilConfig } from '../config';
import { type Catalog, catalogTaskDir, createFsCatalog } from './catalog';
import { hasManifest } from './manifest';
import { type ArtifactStore, openStore } from './store';
import { createStoreCatalog } from './store-catalog';

/** The catalog in a folder: `paths.catalog` unless named (e.g. a command's `--catalog DIR`). */
export type CatalogOpener = (dir?: string) => Catalog;

/**
 * Opens the catalogs `config.store` implies: folders (`fs`, today's behaviour), or the store's one
 * catalog cached in whichever folder is named (`s3`). The store is opened once (or `store` is
 * used); one catalog object per folder, so its manifests are read once per published version.
 */
export async function openCatalogs(
  config: Pick<AnvilConfig, 'store' | 'paths'>,
  store?: ArtifactStore,
): Promise<CatalogOpener> {
  if (config.store.backend === 'fs') return (dir) => createFsCatalog(resolve(dir ?? config.paths.catalog));
  const shared = store ?? (await openStore(config));
  const opened = new Map<string, Catalog>();
  return (dir) => {
    const at = resolve(dir ?? config.paths.catalog);
    if (!opened.has(at)) opened.set(at, createStoreCatalog(shared, at));
    return opened.get(at)!;
  };
}

/** The catalog in `dir` (default `paths.catalog`), as `config.store` implies. */
export async function openCatalog(
  config: Pick<AnvilConfig, 'store' | 'paths'>,
  options: { dir?: string; store?: ArtifactStore } = {},
): Promise<Catalog> {
  return (await openCatalogs(config, options.store))(options.dir);
}

/**
 * Makes this host's copy of the task that `path` lies in (a task folder under `catalog.dir`, or a
 * file in one) the store's current version. A path outside the catalog, or an `fs` catalog (the
 * shared folder is already the authority), is left alone: no I/O.
 */
export async function materializeCatalogPath(catalog: Catalog, path: string): Promise<void> {
  if (catalog.kind === 'fs') return;
  const rel = relative(catalog.dir, resolve(path));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return;
  const id = rel.split(sep)[0]!;
  if (catalogTaskDir(catalog.dir, id)) await catalog.resolve(id);
}

/** A task folder from a path (a folder holding a manifest), or from an id in the catalog; undefined when neither. */
export async function resolveTaskIn(catalog: Catalog, taskOrDir: string): Promise<string | undefined> {
  return hasManifest(resolve(taskOrDir)) ? resolve(taskOrDir) : catalog.resolve(taskOrDir);
}
