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

/**
 * The catalog as every caller that may run against an S3 store sees it (`openCatalog` picks the
 * implementation): the folder of published tasks (`fs`, below), or the store's `catalog/<id>` trees
 * with `dir` as this host's cache of them (`store-catalog.ts`).
 */
export interface Catalog {
  /** `fs`: the folder is the catalog; `store`: the folder caches the store's (`store-catalog.ts`) */
  readonly kind: 'fs' | 'store';
  /** this host's folder of the tasks: `<dir>/<id>` once resolved */
  readonly dir: string;
  /** where the published tasks live, for messages */
  readonly describe: string;
  /** the published tasks, by id */
  list(): Promise<CatalogEntry[]>;
  /** the published tasks as `GET /v1/tasks` lists them */
  summaries(): Promise<TaskSummary[]>;
  /** the local folder of the whole task `id`, current; undefined when the catalog has no such task */
  resolve(id: string): Promise<string | undefined>;
  /** publishes a package under its manifest's id, whole; returns its local folder */
  publish(packageDir: string): Promise<string>;
}

/** The catalog as a folder: today's functions, no I/O beyond them. */
export function createFsCatalog(dir: string): Catalog {
  return {
    kind: 'fs',
    dir,
    describe: dir,
    list: async () => listCatalog(dir),
    summaries: async () => taskSummaries(dir),
    resolve: async (id) => findTask(dir, id),
    publish: (packageDir) => publishToCatalog(packageDir, dir),
  };
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

/** A catalog's published tasks, as `GET /v1/tasks` lists them. */
export function taskSummaries(catalogDir: string): TaskSummary[] {
  return listCatalog(catalogDir).map(summaryOf);
}

/** A published task as `GET /v1/tasks` lists it. */
export function summaryOf({ id, manifest }: CatalogEntry): TaskSummary {
  return {
    id,
    title: manifest.title,
    taskType: manifest.taskType,
    metric: manifest.metric?.name,
    synthetic: Boolean((manifest as { synthetic?: unknown }).synthetic),
  };
}

/** The path of a published task of the catalog, or undefined when it has none by that id. */
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
  return swapIntoPlace(catalogDir, id, await stagePublished(packageDir, catalogDir, id));
}

/**
 * The package as published, without its design notes and with its answers hidden, copied under a
 * hidden staging name beside `<catalog>/<id>`; the staging folder.
 */
export async function stagePublished(packageDir: string, catalogDir: string, id: string): Promise<string> {
  await removeLeftovers(catalogDir, id);
  const staging = stagingDir(catalogDir, id);
  const notes = packagePaths(packageDir).designNotes;
  await cp(packageDir, staging, { recursive: true, filter: (src) => src !== notes });
  await hideAnswers(staging);
  return staging;
}

/** Removes what an attempt killed mid-copy left behind (never visible: hidden names). */
export async function removeLeftovers(catalogDir: string, id: string): Promise<void> {
  await mkdir(catalogDir, { recursive: true });
  const leftovers = (await readdir(catalogDir)).filter(
    (n) => n.startsWith(`.staging-${id}-`) || n.startsWith(`.old-${id}-`),
  );
  for (const leftover of leftovers) await rm(join(catalogDir, leftover), { recursive: true, force: true });
}

/** A fresh hidden folder name beside `<catalog>/<id>` to build its next copy in. */
export function stagingDir(catalogDir: string, id: string): string {
  return join(catalogDir, `.staging-${id}-${randomUUID().slice(0, 8)}`);
}

/** Makes a task folder's private/ (the answers) readable by its owner only. */
export async function hideAnswers(taskDir: string): Promise<void> {
  const answers = join(taskDir, LAYOUT.private);
  if (existsSync(answers)) await hidePrivate(answers);
}

/** Renames `staging` into place as `<catalog>/<id>`, the copy before it moved aside first; the task's path. */
export async function swapIntoPlace(catalogDir: string, id: string, staging: string): Promise<string> {
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
