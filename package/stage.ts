import { cp, rm, stat } from 'node:fs/promises';
import { BadPackageError } from './errors';
import { LAYOUT, MADE_BY_VERIFICATION } from './layout';
import { makeReadable } from './permissions';

/**
 * Copies a package someone wrote to `targetDir` (replacing it) for verification to work on,
 * without what an earlier verification made, readable by the sandbox's user.
 */
export async function copyForVerification(sourceDir: string, targetDir: string): Promise<void> {
  const info = await stat(sourceDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new BadPackageError(
      `${sourceDir} is not a folder: pass the task package's folder (the one holding ${LAYOUT.manifest})`,
    );
  }
  await rm(targetDir, { recursive: true, force: true });
  const filter = (src: string) => src === sourceDir || !MADE_BY_VERIFICATION.includes(src.slice(sourceDir.length + 1));
  await cp(sourceDir, targetDir, { recursive: true, filter });
  await makeReadable(targetDir);
}
