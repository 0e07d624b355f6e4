import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes a file whole: a hidden sibling named `<stagingPrefix><uuid>` renamed into place (atomic on
 * one filesystem), so a reader sees the old file or the new one. The prefix lets listings skip
 * writes in progress.
 */
export async function writeWhole(file: string, body: Buffer | string, stagingPrefix: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const staging = join(dirname(file), `${stagingPrefix}${randomUUID()}`);
  try {
    await writeFile(staging, body);
    await rename(staging, file);
  } catch (err) {
    await rm(staging, { force: true });
    throw err;
  }
}
