import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxLimits } from '../domain/sandbox';
import { WarmDockerSandbox } from '../sandbox/warm';

// A Dojo session's sandbox: one warm container, many steps, against the real Docker engine.
const root = mkdtempSync(join(tmpdir(), 'anvil-warm-'));
const docker = new Docker();
const sandbox = new WarmDockerSandbox(docker, { runsDir: join(root, 'runs') });
const data = mkdtempSync(join(root, 'data-'));
chmodSync(data, 0o755);
writeFileSync(join(data, 'train.csv'), 'a,b\n1,2\n');
const limits: SandboxLimits = { cpus: 1, memoryMb: 256, pids: 64, timeoutS: 20, outputBytes: 64 * 1024, tmpMb: 16 };
const session = {
  sessionKey: `warm-test/${process.pid}`,
  dataDir: data,
  workspaceDir: join(root, 'workspace'),
  limits,
};
const step = (code: string, over: Partial<SandboxLimits> = {}) =>
  sandbox.exec({ ...session, limits: { ...limits, ...over } }, code);
const containerId = async () => (await (await sandbox.ensure(session)).inspect()).Id;

describe('a warm session sandbox', () => {
  afterAll(() => sandbox.stop(session.sessionKey));

  it('keeps /workspace across steps in one container, as the unprivileged user, with /data read-only and no network', async () => {
    const first = await step('open("/workspace/model.txt", "w").write("fitted")\nprint("saved")');
    expect(first).toMatchObject({ exitCode: 0, stdout: 'saved\n' });
    const id = await containerId();
    const second = await step(`
import os, socket
print(open("/workspace/model.txt").read(), os.getuid(), open("/data/train.csv").read().splitlines()[0])
for attempt in (lambda: open("/data/x", "w"), lambda: socket.create_connection(("1.1.1.1", 53), timeout=2)):
    try:
        attempt()
        print("ALLOWED")
    except OSError as e:
        print("DENIED", type(e).__name__)`);
    expect(second.stdout.split('\n')).toEqual(['fitted 10001 a,b', 'DENIED OSError', 'DENIED OSError', '']);
    expect(await containerId()).toBe(id);
  });

  it('stops a runaway step at its limit and stays usable', async () => {
    const id = await containerId();
    const runaway = await step('while True:\n    pass', { timeoutS: 2 });
    expect(runaway).toMatchObject({ timedOut: true, oomKilled: false, exitCode: null });
    expect(runaway.wallMs).toBeLessThan(10_000);
    expect((await step('print(open("/workspace/model.txt").read())')).stdout).toBe('fitted\n');
    expect(await containerId()).toBe(id);
  });

  it('reports a memory hog as OOM and stays usable', async () => {
    const hog = await step('x = []\nwhile True:\n    x.append(bytearray(16 * 1024 * 1024))');
    expect(hog).toMatchObject({ oomKilled: true, timedOut: false, exitCode: null });
    expect((await step('print("alive")')).stdout).toBe('alive\n');
  });

  it('cannot kill the session, and leaves no process behind after a step', async () => {
    const id = await containerId();
    const attack = await step(`
import os, subprocess, time
subprocess.Popen(["sleep", "600"])           # a process left running on purpose
try:
    os.kill(1, 9)
    print("KILLED PID 1")
except PermissionError:
    print("DENIED")`);
    expect(attack.stdout).toBe('DENIED\n');
    const ps = await step(
      'import os\nprint(sorted(p for p in os.listdir("/proc") if p.isdigit() and open(f"/proc/{p}/status").read().split("Uid:")[1].split()[0] == "10001"))',
    );
    expect(JSON.parse(ps.stdout.replace(/'/g, '"')).length).toBeLessThanOrEqual(2); // this step's python (and its timeout wrapper)
    expect(await containerId()).toBe(id);
  });

  it('recreates a container lost with a worker, with the workspace intact', async () => {
    const id = await containerId();
    await docker.getContainer(id).remove({ force: true });
    expect((await step('print(open("/workspace/model.txt").read())')).stdout).toBe('fitted\n');
    expect(await containerId()).not.toBe(id);
  });

  it('leaves no container once stopped', async () => {
    await sandbox.stop(session.sessionKey);
    const left = execFileSync(
      'docker',
      ['ps', '-aq', '--filter', 'label=anvil', '--filter', `label=anvil.owner=${hostname()}:${process.pid}`],
      { encoding: 'utf8' },
    );
    expect(left.trim()).toBe('');
  });
});
