import { chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * chmod -R a+rwX: files restored from the store belong to the worker's user, and the sandbox user
 * (another one) must write them (a Dojo workspace, a training workspace resumed on another host).
 */
export async function openToSandbox(dir: string): Promise<void> {
  await chmod(dir, 0o777);
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    await chmod(join(e.parentPath, e.name), e.isDirectory() ? 0o777 : 0o666);
}
