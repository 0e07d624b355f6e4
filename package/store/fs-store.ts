import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type ArtifactStore, checkKey, type StoredVersion } from './store';
import { writeWhole } from './write-whole';

/** Staging files of a write in progress: never listed, never read. */
const STAGING = '.put-';

/**
 * The store as a folder (the default: `ANVIL_HOME` on a volume every host mounts). A put writes a
 * hidden file beside the target and renames it into place, which is atomic on one filesystem.
 */
export function createFsStore(root: string): ArtifactStore {
  const path = (key: string) => join(root, checkKey(key));
  const list = async (prefix: string): Promise<string[]> => {
    const entries = await readdir(path(prefix), { recursive: true, withFileTypes: true }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      },
    );
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith(STAGING))
      .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'));
  };
  return {
    describe: `fs:${root}`,
    async put(key, body) {
      await writeWhole(path(key), body, STAGING);
    },
    async get(key) {
      return readFile(path(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
    },
    list,
    async listVersions(prefix) {
      const keys = prefix.endsWith('/') ? await list(prefix) : [checkKey(prefix)];
      const versions = await Promise.all(
        keys.map(async (key): Promise<StoredVersion | undefined> => {
          const info = await stat(path(key), { bigint: true }).catch(() => undefined);
          if (!info?.isFile()) return undefined;
          // every put renames a fresh file into place: a new inode and mtime
          return { key, size: Number(info.size), etag: `${info.ino}-${info.mtimeNs}-${info.size}` };
        }),
      );
      return versions.filter((v) => v !== undefined);
    },
    async children(prefix) {
      const entries = await readdir(path(prefix), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
      return entries.filter((e) => e.isDirectory() || (e.isFile() && !e.name.startsWith(STAGING))).map((e) => e.name);
    },
    async remove(keyOrPrefix) {
      await rm(path(keyOrPrefix), { recursive: true, force: true });
    },
  };
}
