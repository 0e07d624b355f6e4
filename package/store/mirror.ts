import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ArtifactStore, StoredVersion } from './store';
import { writeWhole } from './write-whole';

/** Files being written by a pull: never pushed, never listed as this host's own. */
const STAGING = '.sync-';
/** Objects moved at once by one pull or push. */
const PARALLEL = 8;

/** What this host last agreed with the store on, per key: the object's etag and the local file's size and mtime. */
interface SyncRecord {
  etag: string;
  size: number;
  mtimeMs: number;
}

export interface MirrorRoots {
  /** `paths.home`: keys are paths relative to it, and the per-host records live in its `.sync/` */
  home: string;
  /** `paths.artifacts`: the only folder mirrored */
  artifacts: string;
}

export interface StoreMirror {
  /** the store, for messages */
  readonly describe: string;
  /** makes the local copies of these paths (files or folders) match the store; returns the objects fetched */
  pull(paths: string[]): Promise<number>;
  /** puts what changed locally under these paths since the last pull or push; returns the objects put or removed */
  push(paths: string[]): Promise<number>;
}

async function mapLimit<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, lane));
}

/** The regular files under `dir` (never following links), relative, `/`-separated. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith(STAGING))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}

const sameFile = (info: { size: number; mtimeMs: number } | undefined, record: SyncRecord | undefined) =>
  info !== undefined && record !== undefined && info.size === record.size && info.mtimeMs === record.mtimeMs;

/**
 * A host-local copy of the store's objects under `paths.artifacts` (S3 mode, where hosts share no
 * folder). Paths map to keys relative to `paths.home`. A path names a *unit*: a folder is the
 * prefix of everything in it (a top-level folder such as `datasets/` names none); a file is its
 * whole folder when that folder lies two levels down or more (a dataset's `profile.json` brings
 * its `data.csv` and images), else just itself.
 *
 * Per key, `paths.home/.sync/<key>.json` records the etag and the local size and mtime it was
 * last pulled or pushed at: a pull fetches only objects whose etag moved or whose local copy is
 * missing or changed, a push puts only files created or changed since, and a key this host had
 * that is gone on the other side is removed (locally on pull, from the store on push). A folder
 * the store holds is pulled exact: local files it lacks (a failed attempt's) are removed.
 */
export function createStoreMirror(store: ArtifactStore, roots: MirrorRoots): StoreMirror {
  const inHome = roots.artifacts.startsWith(roots.home + sep);
  const artifactsKey = inHome ? relative(roots.home, roots.artifacts).split(sep).join('/') : 'artifacts';
  const keyOf = (path: string): string | undefined => {
    if (!path.startsWith(roots.artifacts + sep)) return undefined;
    return `${artifactsKey}/${relative(roots.artifacts, path).split(sep).join('/')}`;
  };
  const pathOf = (key: string) => join(roots.artifacts, ...key.slice(artifactsKey.length + 1).split('/'));
  const recordFile = (key: string) => `${join(roots.home, '.sync', ...key.split('/'))}.json`;
  const readRecord = async (key: string): Promise<SyncRecord | undefined> =>
    readFile(recordFile(key), 'utf8').then(
      (text) => JSON.parse(text) as SyncRecord,
      () => undefined,
    );
  const writeRecord = (key: string, record: SyncRecord) => writeWhole(recordFile(key), JSON.stringify(record), STAGING);
  const dropRecord = (key: string) => rm(recordFile(key), { force: true });
  const localInfo = (key: string) =>
    lstat(pathOf(key)).then(
      (info) => (info.isFile() ? info : undefined),
      () => undefined,
    );
  /** The keys this host holds a record for under a unit. */
  const recordedKeys = async (unit: string): Promise<string[]> => {
    if (!unit.endsWith('/')) return (await readRecord(unit)) ? [unit] : [];
    const names = await filesUnder(join(roots.home, '.sync', ...unit.split('/')));
    return names.filter((n) => n.endsWith('.json')).map((n) => `${unit}${n.slice(0, -'.json'.length)}`);
  };

  /** A file's unit: its folder two levels down or more, else itself. */
  const fileUnit = (key: string) => {
    const depth = key.slice(artifactsKey.length + 1).split('/').length;
    return depth >= 3 ? key.slice(0, key.lastIndexOf('/') + 1) : key;
  };
  /** The unit a path names; a path missing here is a folder when the store holds objects under it. */
  const unitOf = async (path: string): Promise<string | undefined> => {
    const key = keyOf(path);
    if (!key) return undefined;
    const info = await lstat(path).catch(() => undefined);
    const folder = info ? info.isDirectory() : (await store.listVersions(`${key}/`)).length > 0;
    if (!folder) return fileUnit(key);
    // a top-level folder (all datasets, all forges) is a collection, never one activity's artifact
    return key.slice(artifactsKey.length + 1).includes('/') ? `${key}/` : undefined;
  };
  /** Each path's unit once, and none inside another. */
  const unitsOf = async (paths: string[]): Promise<string[]> => {
    const units = [...new Set((await Promise.all([...new Set(paths)].map(unitOf))).filter((u) => u !== undefined))];
    return units.filter((u) => !units.some((o) => o !== u && o.endsWith('/') && u.startsWith(o)));
  };

  /** One unit at a time per host process: concurrent activities on one package share its transfers. */
  const locks = new Map<string, Promise<unknown>>();
  const locked = <T>(unit: string, work: () => Promise<T>): Promise<T> => {
    const run = (locks.get(unit) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    locks.set(unit, tail);
    void tail.then(() => locks.get(unit) === tail && locks.delete(unit));
    return run;
  };

  const pullUnit = (unit: string) =>
    locked(unit, async () => {
      const objects = await store.listVersions(unit);
      let fetched = 0;
      await mapLimit(objects, async (object: StoredVersion) => {
        const [record, info] = await Promise.all([readRecord(object.key), localInfo(object.key)]);
        if (record?.etag === object.etag && sameFile(info, record)) return;
        const body = await store.get(object.key);
        if (!body) return; // removed since the listing
        await writeWhole(pathOf(object.key), body, STAGING);
        const written = (await localInfo(object.key))!;
        await writeRecord(object.key, { etag: object.etag, size: written.size, mtimeMs: written.mtimeMs });
        fetched++;
      });
      // Gone from the store: this host's copy goes too, unless it changed here since.
      const inStore = new Set(objects.map((o) => o.key));
      for (const key of await recordedKeys(unit)) {
        if (inStore.has(key)) continue;
        const [record, info] = await Promise.all([readRecord(key), localInfo(key)]);
        if (sameFile(info, record)) await rm(pathOf(key), { force: true });
        await dropRecord(key);
      }
      // A folder the store holds is copied exactly: files a failed attempt left here never reach it.
      // (A folder it does not hold is this host's own, e.g. a package given as input, and is kept.)
      if (unit.endsWith('/') && objects.length) {
        const local = (await filesUnder(pathOf(unit.slice(0, -1)))).map((name) => `${unit}${name}`);
        for (const key of local) if (!inStore.has(key)) await rm(pathOf(key), { force: true });
      }
      return fetched;
    });

  const pushUnit = (unit: string) =>
    locked(unit, async () => {
      const local = unit.endsWith('/')
        ? (await filesUnder(pathOf(unit.slice(0, -1)))).map((name) => `${unit}${name}`)
        : (await localInfo(unit))
          ? [unit]
          : [];
      const changed: { key: string; size: number; mtimeMs: number }[] = [];
      await mapLimit(local, async (key) => {
        const [record, info] = await Promise.all([readRecord(key), localInfo(key)]);
        if (!info || sameFile(info, record)) return;
        await store.put(key, await readFile(pathOf(key)));
        changed.push({ key, size: info.size, mtimeMs: info.mtimeMs });
      });
      const here = new Set(local);
      const removed = (await recordedKeys(unit)).filter((key) => !here.has(key));
      for (const key of removed) {
        await store.remove(key);
        await dropRecord(key);
      }
      if (changed.length) {
        // The etags the store gave what was just put, so the next pull knows them as this host's own.
        const etags = new Map((await store.listVersions(unit)).map((o) => [o.key, o.etag]));
        for (const { key, size, mtimeMs } of changed) {
          const etag = etags.get(key);
          if (etag) await writeRecord(key, { etag, size, mtimeMs });
        }
      }
      return changed.length + removed.length;
    });

  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  return {
    describe: store.describe,
    async pull(paths) {
      return sum(await Promise.all((await unitsOf(paths)).map(pullUnit)));
    },
    async push(paths) {
      return sum(await Promise.all((await unitsOf(paths)).map(pushUnit)));
    },
  };
}
