import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A session's /workspace as a filesystem of its own: a sparse ext4 image beside the folder,
 * loop-mounted on it, so that code writing past the quota gets ENOSPC inside the sandbox and the
 * host's disk loses at most the quota. Needs root (mount) and a worker in the engine's mount
 * namespace (the engine must see the mount it binds); where that is not so, the workspace is a
 * plain folder and `quotaStatus` says why.
 */

/** Whether `dir` is a mount point (listed in /proc/self/mountinfo). */
export function isMountPoint(dir: string): boolean {
  const target = resolve(dir);
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === target);
  } catch {
    return false;
  }
}

const imageOf = (workspaceDir: string) => `${resolve(workspaceDir)}.img`;

let unavailable: string | undefined;

/** Why quotas are off on this host, once a mount has failed; undefined while they work. */
export const quotaStatus = () => unavailable;

/**
 * Makes `workspaceDir` a `quotaMb` filesystem (kept if it already is one); false, with the reason
 * in quotaStatus(), when this host cannot mount one.
 */
export async function mountWorkspace(workspaceDir: string, quotaMb: number): Promise<boolean> {
  const dir = resolve(workspaceDir);
  await mkdir(dir, { recursive: true });
  if (isMountPoint(dir)) return true;
  if (unavailable) return false;
  const image = imageOf(dir);
  try {
    if (!existsSync(image)) {
      await writeFile(image, '');
      await run('truncate', ['-s', `${quotaMb}M`, image]);
      // No reserved blocks: the sandbox user may use the whole quota.
      await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'lazy_itable_init=1', image]);
    }
    await run('mount', ['-o', 'loop,nosuid,nodev', image, dir]);
  } catch (err) {
    unavailable = `cannot loop-mount a ${quotaMb} MB workspace (${(err as Error).message.split('\n')[0]}); workspaces have no disk quota on this host`;
    await rm(image, { force: true });
    console.warn(`anvil: ${unavailable}`);
    return false;
  }
  await rmdir(join(dir, 'lost+found')).catch(() => undefined);
  await chmod(dir, 0o777);
  return true;
}

/** Unmounts the workspace's filesystem (if any) and removes it, its image and its folder. */
export async function removeWorkspace(workspaceDir: string): Promise<void> {
  const dir = resolve(workspaceDir);
  if (isMountPoint(dir)) await run('umount', ['-l', dir]);
  await rm(imageOf(dir), { force: true });
  await rm(dir, { recursive: true, force: true });
}

/** Marks a session's folder closed now; `sweepClosed` removes it once its retention has passed. */
export async function markClosed(workspaceDir: string): Promise<void> {
  const marker = join(dirname(resolve(workspaceDir)), 'closed');
  if (existsSync(dirname(marker))) await writeFile(marker, new Date().toISOString());
}

/** Removes the workspaces of sessions closed more than `retentionS` ago, under `sessionsDir/<session>/workspace`. */
export async function sweepClosed(sessionsDir: string, retentionS: number, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(sessionsDir).catch(() => [] as string[])) {
    const marker = join(sessionsDir, name, 'closed');
    const info = await stat(marker).catch(() => undefined);
    if (!info || now - info.mtimeMs < retentionS * 1000) continue;
    await removeWorkspace(join(sessionsDir, name, 'workspace'));
    await rm(join(sessionsDir, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
