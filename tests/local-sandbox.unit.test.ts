import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxLimits } from '../domain/sandbox';
import { GpuSlots, withGpuSlots } from '../sandbox/gpu-slots';
import { LocalSandbox } from '../sandbox/local';
import type { RunOptions } from '../sandbox/sandbox';

// The local-process backend with real python3 processes: what it enforces, since it cannot isolate.
const root = mkdtempSync(join(tmpdir(), 'anvil-local-sandbox-'));
const runsDir = join(root, 'runs');
const sandbox = new LocalSandbox({ runsDir });
const limits: SandboxLimits = { cpus: 1, memoryMb: 256, pids: 64, timeoutS: 30, outputBytes: 64 * 1024, tmpMb: 16 };
let n = 0;
const run = (code: string, extra: Partial<SandboxLimits> = {}, options: Partial<RunOptions> = {}, dataDir?: string) =>
  sandbox.run(
    { code, dataDir, limits: { ...limits, ...extra } },
    { runKey: `local-test/${process.pid}/${n++}`, ...options },
  );

/** Alive and not a zombie (a reparented child may wait for a reaper that never comes). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function gone(pids: number[], withinMs = 1000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (pids.some(running) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return !pids.some(running);
}

/** Python that starts a `sleep` and a Python child, prints all three pids, then spins. */
const FAMILY = `
import subprocess, sys, os, time
a = subprocess.Popen(["sleep", "1000"])
b = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
print(os.getpid(), a.pid, b.pid, flush=True)
while True:
    time.sleep(0.05)
`;

describe('local sandbox', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs main.py in its workspace and reports exit code, output and the workspace', async () => {
    const data = mkdtempSync(join(root, 'data-'));
    writeFileSync(join(data, 'train.csv'), 'a,b\n1,2\n');
    const result = await run(
      `import os, sys
print(open(os.path.join(os.environ["ANVIL_DATA_DIR"], "train.csv")).read().splitlines()[1])
open("model.txt", "w").write("fitted")
print("oops", file=sys.stderr)
print(os.getcwd() == os.environ["ANVIL_WORKSPACE"] == os.environ["HOME"])
raise SystemExit(3)`,
      {},
      {},
      data,
    );
    expect(result).toMatchObject({
      exitCode: 3,
      timedOut: false,
      oomKilled: false,
      stdout: '1,2\nTrue\n',
      stderr: 'oops\n',
      outputTruncated: false,
    });
    expect(readFileSync(join(result.workspaceDir, 'model.txt'), 'utf8')).toBe('fitted');
  });

  it("pins CUDA_VISIBLE_DEVICES to the run's GPU slot, and to '' without one (then memory is capped)", async () => {
    const code = `import os, resource
print(repr(os.environ["CUDA_VISIBLE_DEVICES"]), resource.getrlimit(resource.RLIMIT_AS)[0])`;
    const plain = await run(code);
    expect(plain.stdout.trim()).toBe(`'' ${256 * 1024 * 1024}`);
    const onGpu = withGpuSlots(sandbox, new GpuSlots(['1']));
    const pinned = await onGpu.run({ code, limits }, { runKey: `local-test/${process.pid}/gpu` });
    // RLIMIT_AS would break CUDA: GPU runs go without it
    expect(pinned.stdout.trim()).toBe("'1' -1");
  });

  it("never passes the worker's environment (API keys) through", async () => {
    process.env.OPENAI_API_KEY = 'sk-local-sandbox-secret';
    try {
      const result = await run('import json, os\nprint(json.dumps(dict(os.environ)))', {}, {});
      const env = JSON.parse(result.stdout) as Record<string, string>;
      expect(env.OPENAI_API_KEY).toBeUndefined();
      expect(result.stdout).not.toContain('sk-local-sandbox-secret');
      const allowed = [
        'PATH',
        'HOME',
        'LANG',
        'TMPDIR',
        'MPLCONFIGDIR',
        'PYTHONUNBUFFERED',
        'PYTHONDONTWRITEBYTECODE',
        'OMP_NUM_THREADS',
        'OPENBLAS_NUM_THREADS',
        'MKL_NUM_THREADS',
        'ANVIL_WORKSPACE',
        'ANVIL_RUN_ID',
        'CUDA_VISIBLE_DEVICES',
        'LC_CTYPE',
      ];
      expect(Object.keys(env).filter((k) => !allowed.includes(k))).toEqual([]);
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });

  it('kills the process and everything it started at the time limit', async () => {
    let pids: number[] = [];
    const result = await run(FAMILY, { timeoutS: 2 }, { onStdoutLine: (line) => (pids = line.split(' ').map(Number)) });
    expect(result).toMatchObject({ timedOut: true, oomKilled: false, exitCode: null });
    expect(pids).toHaveLength(3);
    expect(await gone(pids)).toBe(true);
  });

  it('kills the whole group at once when aborted', async () => {
    const ctrl = new AbortController();
    let pids: number[] = [];
    const started = new Promise<void>((ready) => {
      void run(
        FAMILY,
        {},
        { signal: ctrl.signal, onStdoutLine: (line) => ((pids = line.split(' ').map(Number)), ready()) },
      ).catch(() => undefined);
    });
    await started;
    const aborted = Date.now();
    const finished = run('print(1)', {}, {}); // an unrelated run is not touched
    ctrl.abort(new Error('cancelled by Temporal'));
    expect(await gone(pids, 1000)).toBe(true);
    expect(Date.now() - aborted).toBeLessThan(1000);
    expect((await finished).stdout).toBe('1\n');
  });

  it('rejects with the abort reason', async () => {
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error('cancelled by Temporal')), 300);
    await expect(run('import time\ntime.sleep(30)', {}, { signal: ctrl.signal })).rejects.toThrow(
      'cancelled by Temporal',
    );
  });

  it('caps the output it keeps but counts all of it', async () => {
    const result = await run('import sys\nsys.stdout.write("x" * 200_000)\nsys.stdout.write("END")', {
      outputBytes: 4096,
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputTruncated).toBe(true);
    expect(result.stdoutBytes).toBe(200_003);
    expect(result.stdout.length).toBeLessThan(4096 + 200);
    expect(result.stdout.endsWith('END')).toBe(true);
  });

  it('streams stdout lines as they come', async () => {
    const lines: { line: string; at: number }[] = [];
    const t0 = Date.now();
    const result = await run(
      'import time\nprint("step 1")\ntime.sleep(0.8)\nprint("step 2")\nprint("no newline", end="")',
      {},
      { onStdoutLine: (line) => lines.push({ line, at: Date.now() - t0 }) },
    );
    expect(lines.map((l) => l.line)).toEqual(['step 1', 'step 2', 'no newline']);
    expect(lines[1]!.at - lines[0]!.at).toBeGreaterThan(500); // the first came before the run ended
    expect(result.stdout).toBe('step 1\nstep 2\nno newline');
  });

  it('reports running out of its memory limit as OOM', async () => {
    const result = await run('chunks = [bytearray(64 * 1024 * 1024) for _ in range(16)]\nprint("survived")', {
      memoryMb: 128,
    });
    expect(result).toMatchObject({ oomKilled: true, timedOut: false, exitCode: null });
    expect(result.stdout).not.toContain('survived');
  });

  it('replaces what an earlier attempt of the same run left behind', async () => {
    const options = { runKey: `local-test/${process.pid}/retried` };
    const first = await sandbox.run({ code: 'open("partial.txt", "w").write("x")', limits }, options);
    expect(existsSync(join(first.workspaceDir, 'partial.txt'))).toBe(true);
    const second = await sandbox.run({ code: 'import os\nprint(sorted(os.listdir(".")))', limits }, options);
    expect(second.stdout).toBe('[]\n');
  });

  it('reaps the runs of a worker that died, and only those', async () => {
    // A real worker process that starts a run, then is SIGKILLed: its run survives it until reaped.
    const dir = join(root, 'orphans');
    mkdirSync(dir);
    const script = join(dir, 'worker.ts');
    writeFileSync(
      script,
      `import { LocalSandbox } from ${JSON.stringify(join(__dirname, '..', 'sandbox', 'local'))};
new LocalSandbox({ runsDir: ${JSON.stringify(join(dir, 'runs'))} }).run(
  { code: ${JSON.stringify(FAMILY)}, limits: ${JSON.stringify(limits)} },
  { runKey: 'orphan', onStdoutLine: (line) => console.log('PIDS', line) },
);`,
    );
    const worker = spawn(process.execPath, ['-r', 'tsx/cjs', script], {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = '';
      worker.stdout!.on('data', (d) => {
        out += d;
        const m = /PIDS (\d+) (\d+) (\d+)/.exec(out);
        if (m) resolve(m.slice(1).map(Number));
      });
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}): ${out}`)));
    });
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGKILL');
    await exited;
    expect(pids.every(running)).toBe(true); // the run outlived its worker

    const host = new LocalSandbox({ runsDir: join(dir, 'runs') });
    const live = await host.run({ code: 'print(1)', limits }, { runKey: 'alive' }); // this worker's own runs are not touched
    expect(live.exitCode).toBe(0);
    expect(await host.reapOrphans()).toBe(1);
    expect(await gone(pids)).toBe(true);
    expect(await host.reapOrphans()).toBe(0);
  });

  it('says what to do when the interpreter is missing', async () => {
    const broken = new LocalSandbox({ runsDir, python: 'python-that-does-not-exist' });
    await expect(broken.check()).rejects.toThrow(
      /cannot run Python "python-that-does-not-exist".*ANVIL_SANDBOX_PYTHON/,
    );
  });
});
