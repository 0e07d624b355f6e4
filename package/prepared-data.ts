import { existsSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYOUT } from './layout';
import { isPlainEntry } from './links';

/**
 * Replaces the package's public/ and private/ with those a run of prepare.py wrote into
 * `workspaceDir` (the same layout); a folder the run did not write is removed. Links and special
 * files are left behind unfollowed (the harness removes them and fails `package.contained`).
 */
export async function replacePreparedData(packageDir: string, workspaceDir: string): Promise<void> {
  for (const part of [LAYOUT.public, LAYOUT.private]) {
    await rm(join(packageDir, part), { recursive: true, force: true });
    if (existsSync(join(workspaceDir, part))) {
      await cp(join(workspaceDir, part), join(packageDir, part), { recursive: true, filter: isPlainEntry });
    }
  }
}

/** Whether prepare.py's output is there: public/ and the private answers. */
export function isPrepared(packageDir: string): boolean {
  return existsSync(join(packageDir, LAYOUT.public)) && existsSync(join(packageDir, LAYOUT.answers));
}
