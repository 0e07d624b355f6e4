import { TypedError } from '../../domain/failures';

/**
 * The artifact store every host sees: the catalog, trajectories, run artifacts and session
 * snapshots, by key (`/`-separated, no leading `/`). Two backends behind this one interface: a
 * folder on a shared volume (`fs-store.ts`) and an S3-compatible object store (`s3-store.ts`).
 *
 * Every `put` is whole: a reader sees the previous object or the new one, never part of one. A
 * group of objects that must appear together (a task, a snapshot) is written as a tree whose
 * pointer is written last (`trees.ts`).
 */
export interface ArtifactStore {
  /** `fs` or `s3`, and where: for messages */
  readonly describe: string;
  put(key: string, body: Buffer | string): Promise<void>;
  /** the object's bytes, or undefined when there is none */
  get(key: string): Promise<Buffer | undefined>;
  /** every key under `prefix` (a folder-like prefix ending in `/`), in no particular order */
  list(prefix: string): Promise<string[]>;
  /**
   * what `list` lists, with each object's size and etag (`prefix` may also name one object): the etag
   * changes whenever the object is replaced, so a host's copy can be checked without reading it
   */
  listVersions(prefix: string): Promise<StoredVersion[]>;
  /** the names one level under `prefix` (ending in `/`), each once: a listing that skips what lies deeper */
  children(prefix: string): Promise<string[]>;
  /** removes the objects under `prefix` (ending in `/`) or the one key; absent is fine */
  remove(keyOrPrefix: string): Promise<void>;
}

/** One object's identity in the store, without its bytes. */
export interface StoredVersion {
  key: string;
  size: number;
  /** opaque; a different etag means different bytes may be there */
  etag: string;
}

/** A key as the store accepts it: relative, no `.`/`..` segments, no empty segments. */
export function checkKey(key: string): string {
  const segments = key.split('/');
  const last = segments.at(-1) === '' ? segments.slice(0, -1) : segments;
  if (key.startsWith('/') || last.length === 0 || last.some((s) => s === '' || s === '.' || s === '..'))
    throw new TypedError('BadInput', `store key "${key}" is not a relative path of plain segments`);
  return key;
}
