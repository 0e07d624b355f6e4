import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TaskSummary } from '../domain/env';
import { TASK_ID_PATTERN, type TaskManifest } from '../domain/task';
import { hasManifest, parseManifest, readManifest } from './manifest';
import { LAYOUT, packagePaths } from './layout';
import { hidePrivate } from './permissions';

/*
 * A catalog is a folder of published task packages, one per task id: <catalog>/<id>/. Hidden
 * folders in it are publishes in progress (`.staging-<id>-*`) or being replaced (`.old-<id>-*`).
 */

export interface CatalogEntry {
  id: string;
  path: string;
  manifest: TaskManifest;
}

/** The folder task `id` has (or would have) in the catalog; undefined for a string that is no task id. */
export function catalogTaskDir(catalogDir: string, id: string): string | undefined {
  return TASK_ID_PATTERN.test(id) ? join(catalogDir, id) : undefined;
}

/** The published tasks of a catalog, by id; a folder whose manifest is not valid is skipped. */
export function listCatalog(catalogDir: string): CatalogEntry[] {
  if (!existsSync(catalogDir)) return [];
  return readdirSync(catalogDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && catalogTaskDir(catalogDir, e.name) !== undefined)
    .flatMap((e) => {
      const path = join(catalogDir, e.name);
      const reading = parseManifest(readManifestText(path));
      return 'manifest' in reading ? [{ id: e.name, path, manifest: reading.manifest }] : [];
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The path of a published task of the catalog, or undefined when it has none by that id. */
/** A catalog's published tasks, as `GET /v1/tasks` lists them. */
export function taskSummaries(catalogDir: string): TaskSummary[] {
  return listCatalog(catalogDir).map(({ id, manifest }) => ({
    id,
    title: manifest.title,
    taskType: manifest.taskType,
    metric: manifest.metric?.name,
    synthetic: Boolean((manifest as { synthetic?: unknown }).synthetic),
  }));
}

export function findTask(catalogDir: string, id: string): string | undefined {
  const dir = catalogTaskDir(catalogDir, id);
  return dir && hasManifest(dir) ? dir : undefined;
}

/** A task folder from a path (a folder holding a manifest), or from an id in the catalog; undefined when neither. */
export function resolveTask(taskOrDir: string, catalogDir: string): string | undefined {
  if (hasManifest(resolve(taskOrDir))) return resolve(taskOrDir);
  return findTask(catalogDir, taskOrDir);
}

/**
 * Publishes a package as `<catalog>/<id>` (its manifest's id), without its design notes: copied
 * under a hidden staging name beside the target, then renamed into place, so the catalog never
 * shows a half-written task. Returns its path.
 */
export async function publishToCatalog(packageDir: string, catalogDir: string): Promise<string> {
  const { id } = await readManifest(packageDir);
  await mkdir(catalogDir, { recursive: true });
  // What an attempt killed mid-copy left behind (never visible: hidden names).
  const leftovers = (await readdir(catalogDir)).filter(
    (n) => n.startsWith(`.staging-${id}-`) || n.startsWith(`.old-${id}-`),
  );
  for (const leftover of leftovers) await rm(join(catalogDir, leftover), { recursive: true, force: true });
  const staging = join(catalogDir, `.staging-${id}-${randomUUID().slice(0, 8)}`);
  const notes = packagePaths(packageDir).designNotes;
  await cp(packageDir, staging, { recursive: true, filter: (src) => src !== notes });
  const answers = join(staging, LAYOUT.private);
  if (existsSync(answers)) await hidePrivate(answers);
  const target = join(catalogDir, id);
  const old = join(catalogDir, `.old-${id}-${randomUUID().slice(0, 8)}`);
  if (existsSync(target)) await rename(target, old);
  await rename(staging, target);
  await rm(old, { recursive: true, force: true });
  return target;
}

/** The manifest's text, or undefined when the folder has none. */
function readManifestText(dir: string): string | undefined {
  try {
    return readFileSync(packagePaths(dir).manifest, 'utf8');
  } catch {
    return undefined;
  }
}
