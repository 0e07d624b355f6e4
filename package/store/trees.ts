import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { ArtifactStore } from './store';

/** The pointer object of a tree: which version is whole, and its files. */
const pointerSchema = z.object({ version: z.string(), files: z.array(z.string()) });
export type TreePointer = z.infer<typeof pointerSchema>;
const POINTER = 'CURRENT';

/**
 * Writes the files of `dir` as the tree at `key`, whole: each file goes under a fresh version
 * (`<key>/v-<id>/…`), then the one pointer object `<key>/CURRENT` names that version. A reader
 * follows the pointer, so it sees the old tree or the new one, never a mix or a part. The version
 * before the new one is kept (a reader may still be fetching it); older ones are removed.
 * Returns the new version.
 */
export async function putTree(store: ArtifactStore, key: string, dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  const previous = await readPointer(store, key);
  const version = `v-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  for (const file of files) await store.put(`${key}/${version}/${file}`, await readFile(join(dir, file)));
  await store.put(`${key}/${POINTER}`, JSON.stringify({ version, files }));
  const keep = new Set([version, previous?.version]);
  const versions = new Set((await store.list(`${key}/`)).map((k) => k.slice(key.length + 1).split('/')[0]!));
  for (const old of versions) if (old !== POINTER && !keep.has(old)) await store.remove(`${key}/${old}/`);
  return version;
}

/** Fetches the tree at `key` into `intoDir`; false when the store has none. */
export async function getTree(store: ArtifactStore, key: string, intoDir: string): Promise<boolean> {
  const pointer = await readPointer(store, key);
  if (!pointer) return false;
  await getTreeVersion(store, key, pointer, intoDir);
  return true;
}

/** Fetches the version of the tree at `key` that `pointer` names into `intoDir`. */
export async function getTreeVersion(
  store: ArtifactStore,
  key: string,
  pointer: TreePointer,
  intoDir: string,
): Promise<void> {
  await mkdir(intoDir, { recursive: true });
  for (const file of pointer.files) {
    const body = await getTreeFile(store, key, pointer, file);
    if (!body)
      throw new Error(`store ${store.describe}: tree ${key} names ${file}, which is missing; the tree is damaged`);
    await mkdir(dirname(join(intoDir, file)), { recursive: true });
    await writeFile(join(intoDir, file), body);
  }
}

/** One file of the version `pointer` names; undefined when that version has none (or is gone). */
export async function getTreeFile(
  store: ArtifactStore,
  key: string,
  pointer: TreePointer,
  file: string,
): Promise<Buffer | undefined> {
  return store.get(`${key}/${pointer.version}/${file}`);
}

/** Whether a whole tree is at `key`. */
export async function hasTree(store: ArtifactStore, key: string): Promise<boolean> {
  return (await readPointer(store, key)) !== undefined;
}

/** The tree's pointer (its whole version and files), or undefined when there is no tree at `key`. */
export async function readPointer(store: ArtifactStore, key: string): Promise<TreePointer | undefined> {
  const body = await store.get(`${key}/${POINTER}`);
  return body ? pointerSchema.parse(JSON.parse(body.toString('utf8'))) : undefined;
}
