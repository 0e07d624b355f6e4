import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type ArtifactStore, checkKey } from './store';

/** Staging files of a write in progress: never listed, never read. */
const STAGING = '.put-';

/**
 * The store as a folder (the default: `ANVIL_HOME` on a volume every host mounts). A put writes a
 * hidden file beside the target and renames it into place, which is atomic on one filesystem.
 */
export function createFsStore(root: string): ArtifactStore {
  const path = (key: string) => join(root, checkKey(key));
  return {
    describe: `fs:${root}`,
    async put(key, body) {
      const target = path(key);
      await mkdir(dirname(target), { recursive: true });
      const staging = join(dirname(target), `${STAGING}${randomUUID()}`);
      try {
        await writeFile(staging, body);
        await rename(staging, target);
      } catch (err) {
        await rm(staging, { force: true });
        throw err;
      }
    },
    async get(key) {
      return readFile(path(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
    },
    async list(prefix) {
      const dir = path(prefix);
      const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
          throw err;
        },
      );
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith(STAGING))
        .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'));
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
