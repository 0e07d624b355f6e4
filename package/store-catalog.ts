import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskManifest } from '../domain/task';
import {
  type Catalog,
  type CatalogEntry,
  catalogTaskDir,
  hideAnswers,
  removeLeftovers,
  stagePublished,
  stagingDir,
  summaryOf,
  swapIntoPlace,
} from './catalog';
import { LAYOUT } from './layout';
import { hasManifest, parseManifest, readManifest } from './manifest';
import { type ArtifactStore, getTreeFile, getTreeVersion, putTree, readPointer } from './store';

const PREFIX = 'catalog/';
const treeKey = (id: string) => `${PREFIX}${id}`;

/**
 * One update of a local task folder at a time in this process (whichever catalog object asks), so
 * the folder and its version marker agree.
 */
const queues = new Map<string, Promise<unknown>>();
function inTurn<T>(folder: string, work: () => Promise<T>): Promise<T> {
  const run = (queues.get(folder) ?? Promise.resolve()).then(work, work);
  const settled = run.catch(() => undefined);
  queues.set(folder, settled);
  void settled.then(() => queues.get(folder) === settled && queues.delete(folder));
  return run;
}

/**
 * The catalog in the artifact store (`store.backend: s3`, no folder shared between hosts): each
 * task is the tree `catalog/<id>` (trees.ts: a version, then the CURRENT pointer, so a reader sees
 * the old task or the new one, never a mix). `dir` is this host's cache: `resolve` fetches the
 * current version into `<dir>/<id>` (a hidden staging folder renamed into place) when the local
 * copy is missing or of another version, recorded in `<dir>/.versions/<id>`, outside the task.
 */
export function createStoreCatalog(store: ArtifactStore, dir: string): Catalog {
  /** manifests by `<id>/<version>`: a version never changes */
  const manifests = new Map<string, TaskManifest | undefined>();
  const serially = <T>(id: string, work: () => Promise<T>) => inTurn(join(dir, id), work);

  const markerOf = (id: string) => join(dir, '.versions', id);
  const readMarker = (id: string) => readFile(markerOf(id), 'utf8').catch(() => undefined);
  async function writeMarker(id: string, version: string): Promise<void> {
    await mkdir(join(dir, '.versions'), { recursive: true });
    const staging = `${markerOf(id)}.${process.pid}-${Date.now()}`;
    await writeFile(staging, version);
    await rename(staging, markerOf(id));
  }

  async function entryOf(id: string): Promise<CatalogEntry | undefined> {
    const pointer = await readPointer(store, treeKey(id));
    if (!pointer) return undefined;
    const cached = `${id}/${pointer.version}`;
    if (!manifests.has(cached)) {
      const body = await getTreeFile(store, treeKey(id), pointer, LAYOUT.manifest);
      if (!body) return undefined; // replaced twice since the pointer was read: gone from this listing
      const reading = parseManifest(body.toString('utf8'));
      manifests.set(cached, 'manifest' in reading ? reading.manifest : undefined);
    }
    const manifest = manifests.get(cached);
    return manifest && { id, path: join(dir, id), manifest };
  }

  /** Makes `<dir>/<id>` the store's current version; a second try after a publish raced the fetch. */
  async function refresh(id: string, retry = true): Promise<string | undefined> {
    const pointer = await readPointer(store, treeKey(id));
    if (!pointer) return undefined;
    const target = join(dir, id);
    if ((await readMarker(id)) === pointer.version && hasManifest(target)) return target;
    await removeLeftovers(dir, id);
    const staging = stagingDir(dir, id);
    try {
      // 0700 while the answers land (files are written 0644); then as a published folder reads.
      await mkdir(staging, { mode: 0o700 });
      await getTreeVersion(store, treeKey(id), pointer, staging);
      await hideAnswers(staging);
      await chmod(staging, 0o755);
      await swapIntoPlace(dir, id, staging);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      if (retry) return refresh(id, false);
      throw err;
    }
    await writeMarker(id, pointer.version);
    return target;
  }

  /** the ids with a pointer in the store, each with the manifest of its current version */
  async function list(): Promise<CatalogEntry[]> {
    const ids = (await store.children(PREFIX)).filter((id) => catalogTaskDir(dir, id) !== undefined);
    const entries = await Promise.all(ids.map(entryOf));
    return entries.flatMap((e) => (e ? [e] : [])).sort((a, b) => a.id.localeCompare(b.id));
  }

  return {
    kind: 'store',
    dir,
    describe: `${PREFIX} in ${store.describe} (cached in ${dir})`,
    list,
    summaries: async () => (await list()).map(summaryOf),
    async resolve(id) {
      return catalogTaskDir(dir, id) === undefined ? undefined : serially(id, () => refresh(id));
    },
    async publish(packageDir) {
      const { id } = await readManifest(packageDir);
      return serially(id, async () => {
        const staging = await stagePublished(packageDir, dir, id);
        const version = await putTree(store, treeKey(id), staging);
        // This host's copy is the version just written: no fetch back.
        const target = await swapIntoPlace(dir, id, staging);
        await writeMarker(id, version);
        return target;
      });
    },
  };
}
