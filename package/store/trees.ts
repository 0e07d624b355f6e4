import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { ArtifactStore } from './store';

/** The pointer object of a tree: which version is whole, and its files. */
const pointerSchema = z.object({ version: z.string(), files: z.array(z.string()) });
const POINTER = 'CURRENT';

/**
 * Writes the files of `dir` as the tree at `key`, whole: each file goes under a fresh version
 * (`<key>/v-<id>/…`), then the one pointer object `<key>/CURRENT` names that version. A reader
 * follows the pointer, so it sees the old tree or the new one, never a mix or a part. The version
 * before the new one is kept (a reader may still be fetching it); older ones are removed.
 */
export async function putTree(store: ArtifactStore, key: string, dir: string): Promise<void> {
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
}

/** Fetches the tree at `key` into `intoDir`; false when the store has none. */
export async function getTree(store: ArtifactStore, key: string, intoDir: string): Promise<boolean> {
  const pointer = await readPointer(store, key);
  if (!pointer) return false;
  await mkdir(intoDir, { recursive: true });
  for (const file of pointer.files) {
    const body = await store.get(`${key}/${pointer.version}/${file}`);
    if (!body)
      throw new Error(`store ${store.describe}: tree ${key} names ${file}, which is missing; the tree is damaged`);
    await mkdir(dirname(join(intoDir, file)), { recursive: true });
    await writeFile(join(intoDir, file), body);
  }
  return true;
}

/** Whether a whole tree is at `key`. */
export async function hasTree(store: ArtifactStore, key: string): Promise<boolean> {
  return (await readPointer(store, key)) !== undefined;
}

async function readPointer(store: ArtifactStore, key: string) {
  const body = await store.get(`${key}/${POINTER}`);
  return body ? pointerSchema.parse(JSON.parse(body.toString('utf8'))) : undefined;
}
