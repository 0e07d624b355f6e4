import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxImageTag } from '../sandbox/image';
import { WarmDockerSandbox } from '../sandbox/warm';
import { isMountPoint, mountWorkspace, quotaStatus, removeWorkspace } from '../sandbox/workspace-quota';

/**
 * A worker's start-up sweep of workspace mounts a crashed worker left on its host, against real
 * loop mounts and the real Docker engine: only Anvil's own mounts under the sessions folder that no
 * container binds are unmounted; their files come back when the session's next step mounts again.
 */

const root = mkdtempSync(join(tmpdir(), 'anvil-guard-sweep-'));
const sessionsDir = join(root, 'sessions');
const docker = new Docker();
const warm = new WarmDockerSandbox(docker, { runsDir: join(root, 'runs'), workspaceQuotaMb: 16 });
const workspace = (dir: string, name: string) => join(dir, name, 'workspace');
const containers: Docker.Container[] = [];
const mounted: string[] = [];

/** A loop mount of `image` (made here) at `dir`, as an operator or another program might have. */
function loopMount(image: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('truncate', ['-s', '16M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  execFileSync('mount', ['-o', 'loop', image, dir]);
  mounted.push(dir);
}

afterAll(async () => {
  for (const c of containers) await c.remove({ force: true });
  for (const dir of mounted) if (isMountPoint(dir)) execFileSync('umount', [dir]);
  for (const name of ['leaked', 'live', 'fresh']) await removeWorkspace(workspace(sessionsDir, name));
  if (!mounted.some(isMountPoint)) rmSync(root, { recursive: true, force: true });
});

describe('sweeping leaked workspace mounts at a worker start', () => {
  it("unmounts only Anvil's mounts under the sessions folder that no container binds; a swept session gets its files back", async () => {
    const leaked = workspace(sessionsDir, 'leaked');
    const live = workspace(sessionsDir, 'live');
    expect(await mountWorkspace(leaked, 16), quotaStatus()).toBe(true);
    mounted.push(leaked);
    writeFileSync(join(leaked, 'model.txt'), 'kept');
    expect(await mountWorkspace(live, 16)).toBe(true);
    mounted.push(live);
    const container = await docker.createContainer({
      name: `guard-sweep-${process.pid}`,
      Image: sandboxImageTag(),
      Cmd: ['sleep', 'infinity'],
      Labels: { anvil: '1' },
      NetworkDisabled: true,
      HostConfig: { Binds: [`${live}:/workspace:rw`] },
    });
    containers.push(container); // created, not started: it holds the workspace all the same
    // Not Anvil's: a tmpfs where a workspace would be, a loop mount of an image elsewhere, and one outside.
    const tmpfs = workspace(sessionsDir, 'tmpfs');
    mkdirSync(tmpfs, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tmpfs]);
    mounted.push(tmpfs);
    const foreign = workspace(sessionsDir, 'foreign');
    loopMount(join(root, 'foreign.img'), foreign);
    const outside = workspace(join(root, 'elsewhere'), 'leaked');
    loopMount(`${outside}.img`, outside);

    const swept = await warm.sweepLeakedWorkspaces(sessionsDir, { graceMs: 0 });

    expect(swept).toEqual([leaked]);
    expect(isMountPoint(leaked)).toBe(false);
    expect([live, tmpfs, foreign, outside].map(isMountPoint)).toEqual([true, true, true, true]);
    expect(existsSync(`${leaked}.img`)).toBe(true);
    expect(await mountWorkspace(leaked, 16)).toBe(true); // the session's next step
    expect(readFileSync(join(leaked, 'model.txt'), 'utf8')).toBe('kept');
  });

  it('keeps a mount younger than the grace period: another worker may be about to start its container', async () => {
    const fresh = workspace(sessionsDir, 'fresh');
    expect(await mountWorkspace(fresh, 16)).toBe(true);
    mounted.push(fresh);
    expect(await warm.sweepLeakedWorkspaces(sessionsDir)).not.toContain(fresh);
    expect(isMountPoint(fresh)).toBe(true);
  });
});
