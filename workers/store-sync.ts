import { storeSynced } from '../activities/store-sync';
import type { AnvilConfig } from '../config';
import { type CatalogOpener, materializeCatalogPath, openCatalogs } from '../package/open-catalog';
import { openStore } from '../package/store';
import { createStoreMirror, type StoreMirror } from '../package/store/mirror';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AsyncFunctions = Record<string, (...args: any[]) => Promise<unknown>>;

/** One mirror per store and home in a process: workers of several kinds in one process share its transfers. */
const mirrors = new Map<string, Promise<StoreMirror>>();
function mirrorOf(config: Pick<AnvilConfig, 'store' | 'paths'>): Promise<StoreMirror> {
  const id = JSON.stringify([config.store.s3, config.paths.home, config.paths.artifacts]);
  if (!mirrors.has(id)) {
    const { home, artifacts } = config.paths;
    const opening = openStore(config).then((store) => createStoreMirror(store, { home, artifacts }));
    mirrors.set(id, opening);
    opening.catch(() => mirrors.delete(id)); // a store that failed to open is tried again next time
  }
  return mirrors.get(id)!;
}

/** This process's mirror of the store in S3 mode (training pushes its checkpoints through it); undefined with `fs`. */
export async function artifactMirror(config: Pick<AnvilConfig, 'store' | 'paths'>): Promise<StoreMirror | undefined> {
  return config.store.backend === 's3' ? mirrorOf(config) : undefined;
}

/**
 * What a worker wraps its activities in: with `store.backend: s3`, `storeSynced` over one store
 * and one mirror for this process (run artifacts follow the activities from host to host, and a
 * catalog path in an input is made current from the store's catalog first); with `fs` (one shared
 * folder), the activities themselves, untouched: no scan, no extra I/O.
 */
export async function artifactSync(
  config: Pick<AnvilConfig, 'store' | 'paths'>,
  catalogs?: CatalogOpener,
): Promise<<T extends AsyncFunctions>(activities: T) => T> {
  if (config.store.backend !== 's3') return (activities) => activities;
  const { artifacts, catalog } = config.paths;
  const mirror = await mirrorOf(config);
  const opener = catalogs ?? (await openCatalogs(config));
  const prepareCatalogPath = (path: string) => materializeCatalogPath(opener(), path);
  return (activities) => storeSynced(activities, { mirror, artifacts, catalog, prepareCatalogPath });
}
