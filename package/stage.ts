import { cp, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadPackageError } from './errors';
import { LAYOUT, MADE_BY_VERIFICATION } from './layout';
import { findLinks, isPlainEntry } from './links';
import { makeReadable } from './permissions';

/**
 * Copies a package someone wrote to `targetDir` (replacing it) for verification to work on,
 * without what an earlier verification made, readable by the sandbox's user. Links and special
 * files are neither copied nor followed: they are listed in LAYOUT.refusedLinks, which fails
 * `files.no_links`.
 */
export async function copyForVerification(sourceDir: string, targetDir: string): Promise<void> {
  const info = await stat(sourceDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new BadPackageError(
      `${sourceDir} is not a folder: pass the task package's folder (the one holding ${LAYOUT.manifest})`,
    );
  }
  await rm(targetDir, { recursive: true, force: true });
  const refused = await findLinks(sourceDir);
  const filter = async (src: string) =>
    src === sourceDir || (!MADE_BY_VERIFICATION.includes(src.slice(sourceDir.length + 1)) && (await isPlainEntry(src)));
  await cp(sourceDir, targetDir, { recursive: true, filter, verbatimSymlinks: true });
  if (refused.length) await writeFile(join(targetDir, LAYOUT.refusedLinks), JSON.stringify(refused, null, 1));
  await makeReadable(targetDir);
}
