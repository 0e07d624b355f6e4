import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxLimits } from '../domain/sandbox';
import { WarmDockerSandbox } from '../sandbox/warm';

// Steps in a session's warm interpreter (the fork server): each is a fresh process, only files persist,
// and nothing a step does to the server reaches a later step.
const root = mkdtempSync(join(tmpdir(), 'anvil-fork-'));
const sandbox = new WarmDockerSandbox(new Docker(), { runsDir: join(root, 'runs') });
const limits: SandboxLimits = { cpus: 1, memoryMb: 512, pids: 64, timeoutS: 20, outputBytes: 64 * 1024, tmpMb: 16 };
const session = { sessionKey: `fork-test/${process.pid}`, workspaceDir: join(root, 'workspace'), limits };
const step = (code: string) => sandbox.exec(session, code);

/** The sandbox user's live processes other than this step's own python, and the fork server. */
const STRAYS = `
import os
me, server = os.getpid(), os.getppid()
def live(p):
    s = open(f"/proc/{p}/status").read()
    return s.split("Uid:")[1].split()[0] == "10001" and "State:\\tZ" not in s
print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (me, server) and live(p)))`;

/** Whether this step runs in the forked warm interpreter (its parent already holds pandas). */
const WARM = `
import os
print(open(f"/proc/{os.getppid()}/cmdline").read().split("\\0")[2] == "/harness/fork_server.py")`;

describe('the warm interpreter of a session', () => {
  afterAll(() => sandbox.stop(session.sessionKey));

  it('gives each step fresh globals, modules and libraries; only files persist', async () => {
    const first = await step(`
import colorsys, os, pandas
pandas.read_csv = lambda *a, **k: "patched"
LEFT_BEHIND = 1
open("kept.txt", "w").write("file")
print(os.getcwd(), os.getuid())`);
    expect(first).toMatchObject({ exitCode: 0, stdout: '/workspace 10001\n' });
    const second = await step(`
import sys, pandas
print("colorsys" in sys.modules, "LEFT_BEHIND" in globals(), pandas.read_csv.__name__, open("kept.txt").read())`);
    expect(second).toMatchObject({ exitCode: 0, stdout: 'False False read_csv file\n' });
    expect((await step(WARM)).stdout).toBe('True\n');
  });

  it('keeps a step to its time limit and reports exceptions and exit codes like python3', async () => {
    const runaway = await sandbox.exec({ ...session, limits: { ...limits, timeoutS: 2 } }, 'while True:\n    pass');
    expect(runaway).toMatchObject({ timedOut: true, exitCode: null });
    const raised = await step('import sys\nprint("out")\nraise ValueError("boom")');
    expect(raised.exitCode).toBe(1);
    expect(raised.stderr).toMatch(/File "\/code\/main.py", line 3[\s\S]*ValueError: boom/);
    expect(raised.stderr).not.toContain('fork_server');
    expect((await step('import sys\nsys.exit(3)')).exitCode).toBe(3);
  });

  it("caps a step's address space at its memory limit past what it inherits, then runs the next step", async () => {
    // 1.5× the limit, reserved but never touched: the cgroup alone would not count it.
    const reserve = (mb: number) =>
      `import numpy\nx = numpy.empty(${mb} * 1024 * 1024, dtype=numpy.uint8)\nprint("reserved")`;
    const over = await step(reserve(limits.memoryMb * 1.5));
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toMatch(/MemoryError|Unable to allocate/);
    expect((await step(reserve(limits.memoryMb / 2))).stdout).toBe('reserved\n');
    expect((await step(WARM)).stdout).toBe('True\n');
  });

  it('leaves no daemon behind a step', async () => {
    const daemon = await step(`
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        open("/workspace/daemon.txt", "w").write("late")
    os._exit(0)
print("forked")`);
    expect(daemon.stdout).toBe('forked\n');
    expect((await step(STRAYS)).stdout).toBe('[]\n');
    await new Promise((done) => setTimeout(done, 3500));
    expect(existsSync(join(session.workspaceDir, 'daemon.txt'))).toBe(false);
  });

  it('recovers from a step that exhausts its pids', async () => {
    const bomb = await step(`
import os, time
kids = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        kids += 1
except OSError:
    print("exhausted after", kids > 10)`);
    expect(bomb.stdout).toBe('exhausted after True\n');
    expect(await step(STRAYS)).toMatchObject({ exitCode: 0, stdout: '[]\n' });
  });

  it('runs the step after one that killed the server cleanly, in a new server', async () => {
    const killer = await step('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint("after")');
    expect(killer.exitCode).toBeNull();
    expect(killer.stderr).toContain('step server is gone');
    expect(await step(STRAYS)).toMatchObject({ exitCode: 0, stdout: '[]\n' });
    expect((await step(WARM)).stdout).toBe('True\n');
  });

  it('never runs a later step in an interpreter the agent planted', async () => {
    // An impostor on the server's socket that answers every step with "POISONED", with the server
    // killed (the worker then restarts it) or left alive (its socket replaced).
    for (const killServer of [true, false]) {
      const plant = await step(`
import os, signal, socket, json
path = "/anvil/s"
os.unlink(path)
impostor = socket.socket(socket.AF_UNIX)
impostor.bind(path)
impostor.listen(8)
if os.fork() == 0:
    os.setsid()
    while True:
        conn, _ = impostor.accept()
        conn.recv(65536)
        conn.sendall(json.dumps({"exitCode": 0, "timedOut": False, "oomKilled": False, "wallMs": 1,
            "stdout": "POISONED\\n", "stderr": "", "stdoutBytes": 9, "stderrBytes": 0,
            "outputTruncated": False}).encode() + b"\\n")
        conn.recv(65536)
        conn.sendall(b'{"ok": true}\\n')
if ${killServer ? 'True' : 'False'}:
    os.kill(os.getppid(), signal.SIGKILL)
print("planted")`);
      expect(plant.stdout).toBe(killServer ? '' : 'planted\n');
      expect((await step('print("clean")')).stdout).toBe('clean\n');
      expect((await step(STRAYS)).stdout).toBe('[]\n');
      expect((await step(WARM)).stdout).toBe('True\n');
    }
  });
});
