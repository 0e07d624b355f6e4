import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { PackageFiles } from '../domain/task';
import { DATA_DIRS } from './layout';

/** The authored text files of a package (everything but its data folders); symbolic links are skipped. */
export async function readPackageFiles(dir: string): Promise<PackageFiles> {
  const files: PackageFiles = {};
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const rel = relative(dir, path);
      if (entry.isDirectory()) {
        if (!DATA_DIRS.includes(rel)) await walk(path);
      } else if (entry.isFile()) {
        files[rel] = await readFile(path, 'utf8');
      }
    }
  };
  await walk(dir);
  return files;
}

/** Replaces the authored files of a package with `files`, leaving its data folders alone. */
export async function writePackageFiles(dir: string, files: PackageFiles): Promise<void> {
  for (const rel of Object.keys(await readPackageFiles(dir).catch(() => ({})))) await rm(join(dir, rel));
  for (const [rel, content] of Object.entries(files)) {
    if (rel.startsWith('/') || rel.split('/').includes('..')) {
      throw new Error(`refusing to write ${rel} outside the package`);
    }
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
}
