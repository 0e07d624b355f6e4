import { chmodSync, existsSync, mkdtempSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxLimits } from '../../domain/sandbox';
import { WarmDockerSandbox } from '../../sandbox/warm';
import { isMountPoint, quotaStatus, removeWorkspace } from '../../sandbox/workspace-quota';

/**
 * Hostile agent code in a Dojo session's warm sandbox, against the real Docker engine. Each case
 * says what it tries and what must hold: nothing of the attack survives, the session goes on, and
 * the host is untouched beyond the session's own limits.
 */

const QUOTA_MB = 64;
const root = mkdtempSync(join(tmpdir(), 'anvil-hostile-sandbox-'));
const docker = new Docker();
const sandbox = new WarmDockerSandbox(docker, { runsDir: join(root, 'runs'), workspaceQuotaMb: QUOTA_MB });
const data = mkdtempSync(join(root, 'data-'));
chmodSync(data, 0o755);
writeFileSync(join(data, 'train.csv'), 'a,b\n1,2\n');
const limits: SandboxLimits = { cpus: 1, memoryMb: 512, pids: 64, timeoutS: 20, outputBytes: 64 * 1024, tmpMb: 16 };
const session = (name: string) => ({
  sessionKey: `security-hostile/${process.pid}/${name}`,
  dataDir: data,
  workspaceDir: join(root, name, 'workspace'),
  limits,
});
const sessions: ReturnType<typeof session>[] = [];
const open = (name: string) => {
  const s = session(name);
  sessions.push(s);
  return s;
};
const step = (s: ReturnType<typeof session>, code: string, over: Partial<SandboxLimits> = {}) =>
  sandbox.exec({ ...s, limits: { ...limits, ...over } }, code);

/** Processes of the sandbox user in the session's container, as the host sees them. */
async function sandboxProcesses(s: ReturnType<typeof session>): Promise<number> {
  const container = await sandbox.ensure(s);
  const top = (await container.top({ ps_args: '-o pid,uid' })) as { Processes: string[][] };
  return top.Processes.filter((p) => p[1]?.trim() === '10001').length;
}

afterAll(async () => {
  for (const s of sessions) {
    await sandbox.stop(s.sessionKey);
    await removeWorkspace(s.workspaceDir);
  }
});

describe('hostile agent code', () => {
  it('fork bomb + reset — tries: fill the pids limit so that no clean-up can start inside; holds: after reset no process of the step is left, /workspace is empty, the next step runs', async () => {
    const s = open('fork-bomb');
    await step(s, 'open("/workspace/before.txt", "w").write("x")');
    const bomb = await step(
      s,
      `
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)`,
      { timeoutS: 5 },
    );
    expect(bomb.exitCode).not.toBe(0);
    await sandbox.reset(s);
    expect(await sandboxProcesses(s)).toBeLessThanOrEqual(1); // the next step's fork server at most
    expect(existsSync(join(s.workspaceDir, 'before.txt'))).toBe(false);
    const after = await step(s, 'import os\nprint(sorted(os.listdir("/workspace")), "ok")');
    expect(after).toMatchObject({ exitCode: 0, stdout: '[] ok\n' });
  });

  it(`disk fill — tries: write ${2 * QUOTA_MB} MB into /workspace; holds: ENOSPC inside, the host loses at most the ${QUOTA_MB} MB quota, the next step runs`, async () => {
    const s = open('disk-fill');
    await step(s, 'print("warm")');
    expect(quotaStatus(), 'this host must be able to loop-mount workspaces').toBeUndefined();
    expect(isMountPoint(s.workspaceDir)).toBe(true);
    const free = () => {
      const fs = statfsSync(root);
      return fs.bavail * fs.bsize;
    };
    const before = free();
    const fill = await step(
      s,
      `
chunk = b"\\0" * (1 << 20)
written = 0
try:
    with open("/workspace/fill.bin", "wb") as f:
        for _ in range(${2 * QUOTA_MB}):
            f.write(chunk)
            f.flush()
            written += 1
except OSError as e:
    print("errno", e.errno, "after", written, "MB")`,
    );
    expect(fill.stdout).toMatch(/^errno 28 after \d+ MB/); // ENOSPC
    const lost = before - free();
    expect(lost).toBeLessThanOrEqual(QUOTA_MB * 1024 * 1024 + 8 * 1024 * 1024); // other tests write too: some slack
    expect((await step(s, 'import os\nos.remove("/workspace/fill.bin")\nprint("ok")')).stdout).toBe('ok\n');
  });

  it('huge stdout — tries: print 200 MB; holds: the worker keeps only the capped head and tail, the step ends, the next step runs', async () => {
    const s = open('huge-stdout');
    const loud = await step(
      s,
      'import sys\nline = "y" * 1023 + "\\n"\nfor _ in range(200 * 1024):\n    sys.stdout.write(line)',
    );
    expect(loud.exitCode).toBe(0);
    expect(loud.outputTruncated).toBe(true);
    expect(loud.stdout.length).toBeLessThanOrEqual(limits.outputBytes + 1024);
    expect((await step(s, 'print("ok")')).stdout).toBe('ok\n');
  });

  it('privileges — tries: gain capabilities, dump core, open unlimited files; holds: no capabilities, no-new-privileges, core 0, nofile 4096, fsize capped', async () => {
    const s = open('privileges');
    const probe = await step(
      s,
      `
import resource
print(open("/proc/self/status").read().split("CapEff:")[1].split()[0])
print(open("/proc/self/status").read().split("NoNewPrivs:")[1].split()[0])
for name in ("RLIMIT_CORE", "RLIMIT_NOFILE", "RLIMIT_FSIZE"):
    print(resource.getrlimit(getattr(resource, name))[1])`,
    );
    const [capEff, noNewPrivs, core, nofile, fsize] = probe.stdout.trim().split('\n');
    expect(Number.parseInt(capEff!, 16)).toBe(0);
    expect(noNewPrivs).toBe('1');
    expect([core, nofile]).toEqual(['0', '4096']);
    expect(Number(fsize)).toBe(8 * 1024 ** 3);
    const inspect = await (await sandbox.ensure(s)).inspect();
    expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
  });
});
