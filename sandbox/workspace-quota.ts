import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, realpath, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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

/**
 * Anvil's own workspace filesystems under `sessionsDir`: mount points `<sessionsDir>/<session>/workspace`
 * on a loop device whose backing file is the image beside them (`workspace.img`). Any other mount
 * there (a tmpfs, another image, an operator's) is not one of them.
 */
export async function workspaceMounts(sessionsDir: string): Promise<string[]> {
  // The kernel lists mount points by their real path.
  const root = await realpath(sessionsDir).catch(() => resolve(sessionsDir));
  let lines: string[];
  try {
    lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  } catch {
    return [];
  }
  const mounts: string[] = [];
  for (const line of lines) {
    const [left, right] = line.split(' - ');
    const dir = left?.split(' ')[4];
    const source = right?.split(' ')[1];
    if (!dir || !source || basename(dir) !== 'workspace' || dirname(dirname(dir)) !== root) continue;
    const loop = /^\/dev\/(loop\d+)$/.exec(source)?.[1];
    if (!loop) continue;
    const backing = await readFile(`/sys/block/${loop}/loop/backing_file`, 'utf8').catch(() => '');
    // " (deleted)": the image was removed while still mounted, a leak all the same.
    if (backing.trim().replace(/ \(deleted\)$/, '') === imageOf(dir)) mounts.push(dir);
  }
  return mounts;
}

/**
 * Unmounts the workspace filesystems under `sessionsDir` that no container uses (`inUse`): those a
 * crashed worker left behind. Their images stay, so a session that is still alive gets its files
 * back when its next step mounts the image again; removing them is `sweepClosed`'s job. A mount
 * younger than `graceMs` (by its image's last write) is kept: another worker may be about to start
 * its container. Returns the folders unmounted.
 */
export async function sweepLeakedMounts(
  sessionsDir: string,
  inUse: ReadonlySet<string>,
  { graceMs = 60_000, now = Date.now() }: { graceMs?: number; now?: number } = {},
): Promise<string[]> {
  const swept: string[] = [];
  const used = new Set(await Promise.all([...inUse].map((dir) => realpath(dir).catch(() => resolve(dir)))));
  for (const dir of await workspaceMounts(sessionsDir)) {
    if (used.has(dir)) continue;
    const written = await stat(imageOf(dir)).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (now - written < graceMs) continue;
    try {
      await run('umount', [dir]);
      swept.push(dir);
    } catch (err) {
      console.warn(`anvil: kept the workspace mount ${dir}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return swept;
}
