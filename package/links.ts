import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LAYOUT } from './layout';

/**
 * Symbolic links and special files (fifos, sockets, devices) under `dir`, found without following
 * any: each as `path -> target` or `path (special file)`, relative to `dir`. A package holds only
 * folders and regular files; anything else could make a reader open a file outside it.
 */
export async function findLinks(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isSymbolicLink()) found.push(`${relative(dir, path)} -> ${await readlink(path)}`);
      else if (!entry.isFile()) found.push(`${relative(dir, path)} (special file)`);
    }
  };
  await walk(dir);
  return found.sort();
}

/** Whether `path` is a regular file or a folder (lstat: a link is neither). */
export async function isPlainEntry(path: string): Promise<boolean> {
  const info = await lstat(path);
  return info.isFile() || info.isDirectory();
}

/** What staging refused to copy (its record in the staged package), and any link the folder holds now. */
export async function linksOfPackage(packageDir: string): Promise<string[]> {
  const record = await readFile(join(packageDir, LAYOUT.refusedLinks), 'utf8').then(
    (text) => JSON.parse(text) as string[],
    () => [],
  );
  return [...new Set([...record, ...(await findLinks(packageDir))])].sort();
}
