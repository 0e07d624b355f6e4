import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants, hostname } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { RunResult } from '../domain/sandbox';
import { CappedOutput, outputOf } from './capped-output';
import { LineSplitter } from './line-splitter';
import type { ResolvedRunSpec, RunOptions, Sandbox } from './sandbox';

export interface LocalSandboxOptions {
  /** host directory under which each run gets code/, tmp/, its pid file and (unless given one) workspace/ */
  runsDir: string;
  /** the Python interpreter; default `python3` from PATH */
  python?: string;
}

/** Caps the address space (RLIMIT_AS), turns off core dumps, then becomes the run's Python. */
const MEMORY_WRAPPER = `
import os, resource, sys
limit = int(sys.argv[1])
hard = resource.getrlimit(resource.RLIMIT_AS)[1]
limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execv(sys.executable, [sys.executable, sys.argv[2]])
`;

interface PidRecord {
  /** the run's process group (its leader's pid) */
  pgid: number;
  /** `host:pid` of the worker that started it */
  owner: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already
  }
}

/** Whether a live process of group `pgid` carries this run's marker: a pid reused since (e.g. after a reboot) is left alone. */
async function groupIsRun(pgid: number, runId: string): Promise<boolean> {
  const procs = await readdir('/proc').catch(() => undefined);
  if (!procs) return alive(-pgid); // no /proc: trust the pid file
  for (const p of procs.filter((n) => /^\d+$/.test(n))) {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp !== pgid) continue;
    const environ = await readFile(`/proc/${p}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`ANVIL_RUN_ID=${runId}`)) return true;
  }
  return false;
}

/** MemoryError (or numpy's _ArrayMemoryError) as the last line of a traceback: the run hit its memory limit. */
function diedOfMemory(stderr: string): boolean {
  const last = stderr.trimEnd().split('\n').at(-1) ?? '';
  return /^[\w.]*MemoryError\b/.test(last);
}

/**
 * Env values that name the sandbox's paths (`/workspace/…`, `/data/…`, as callers written for the
 * Docker backend pass them) translated to this run's host folders.
 */
function hostPaths(env: Record<string, string>, roots: Record<string, string>): Record<string, string> {
  const translate = (value: string) => {
    for (const [root, host] of Object.entries(roots)) {
      if (value === root || value.startsWith(`${root}/`)) return host + value.slice(root.length);
    }
    return value;
  };
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, translate(v)]));
}

/**
 * Runs each spec as a local `python3 main.py` process — for hosts without Docker or its NVIDIA
 * runtime, and for TRUSTED code only. It does not isolate like Docker: the process runs as the
 * worker's user, with the host's network and file system (it could read anything that user can),
 * and sees /data and /workspace only as host paths (ANVIL_DATA_DIR, ANVIL_WORKSPACE; cwd is the
 * workspace). What it does enforce: the time limit (SIGKILL to the whole process group), the output
 * caps, a minimal environment (never the worker's own, so no API keys), the GPUs it was given
 * (CUDA_VISIBLE_DEVICES, '' = none), and memory through RLIMIT_AS on runs without GPUs (it breaks
 * CUDA). CPUs only set the thread-count hints (OMP/BLAS); pids and /tmp size are not limited.
 */
export class LocalSandbox implements Sandbox {
  private readonly owner = `${hostname()}:${process.pid}`;
  private python?: Promise<string>;

  constructor(private readonly options: LocalSandboxOptions) {}

  /** The interpreter's real path (a pyenv shim or a bare name would depend on the worker's env). */
  private interpreter(): Promise<string> {
    const name = this.options.python ?? 'python3';
    this.python ??= new Promise<string>((done, fail) => {
      execFile(name, ['-c', 'import sys; print(sys.executable)'], { timeout: 20_000, encoding: 'utf8' }, (err, out) => {
        if (err || !out.trim()) {
          this.python = undefined; // try again next time
          fail(
            new Error(
              `the local sandbox cannot run Python "${name}" (${err?.message ?? 'no sys.executable'}): install Python 3 or set ANVIL_SANDBOX_PYTHON to an interpreter`,
            ),
          );
        } else done(out.trim());
      });
    });
    return this.python;
  }

  /** Fails with what to do when the interpreter is missing. */
  async check(): Promise<void> {
    await this.interpreter();
    await mkdir(this.options.runsDir, { recursive: true });
  }

  async run(spec: ResolvedRunSpec, { runKey, signal, onStdoutLine, gpus = [] }: RunOptions): Promise<RunResult> {
    signal?.throwIfAborted();
    const python = await this.interpreter();
    const key = createHash('sha256').update(runKey).digest('hex').slice(0, 16);
    const runDir = resolve(this.options.runsDir, key);
    const codeDir = join(runDir, 'code');
    const tmpDir = join(runDir, 'tmp');
    const workspaceDir = resolve(spec.workspaceDir ?? join(runDir, 'workspace'));

    // A retried attempt replaces what a lost one left behind.
    await this.reap(runDir, key);
    await rm(codeDir, { recursive: true, force: true });
    await rm(tmpDir, { recursive: true, force: true });
    if (!spec.workspaceDir) await rm(workspaceDir, { recursive: true, force: true });
    for (const dir of [codeDir, tmpDir, workspaceDir]) await mkdir(dir, { recursive: true });
    const main = join(codeDir, 'main.py');
    await writeFile(main, spec.code);

    const { limits } = spec;
    const threads = String(Math.max(1, Math.floor(limits.cpus)));
    const env: NodeJS.ProcessEnv = {
      PATH: [dirname(python), process.env.PATH ?? '/usr/bin:/bin'].join(delimiter),
      HOME: workspaceDir,
      LANG: process.env.LANG ?? 'C.UTF-8',
      TMPDIR: tmpDir,
      MPLCONFIGDIR: tmpDir,
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      OMP_NUM_THREADS: threads,
      OPENBLAS_NUM_THREADS: threads,
      MKL_NUM_THREADS: threads,
      ...hostPaths(spec.env ?? {}, {
        '/workspace': workspaceDir,
        ...(spec.dataDir ? { '/data': resolve(spec.dataDir) } : {}),
      }),
      ...(spec.dataDir ? { ANVIL_DATA_DIR: resolve(spec.dataDir) } : {}),
      ANVIL_WORKSPACE: workspaceDir,
      ANVIL_RUN_ID: key,
      CUDA_VISIBLE_DEVICES: gpus.join(','),
    };
    // RLIMIT_AS reserves no room for CUDA's huge virtual mappings: GPU runs go without it.
    const args = gpus.length ? [main] : ['-c', MEMORY_WRAPPER, String(limits.memoryMb * 1024 * 1024), main];

    const stdout = new CappedOutput(limits.outputBytes);
    const stderr = new CappedOutput(limits.outputBytes);
    const lines = onStdoutLine ? new LineSplitter(onStdoutLine) : undefined;
    const started = Date.now();
    // Its own session and process group, so a kill reaches every process it started.
    const child = spawn(python, args, { cwd: workspaceDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid;
    if (pgid === undefined) {
      const err = await new Promise<Error>((r) => child.once('error', r));
      throw new Error(`the local sandbox could not start ${python}: ${err.message}`);
    }
    const pidFile = join(runDir, 'pid.json');
    writeFileSync(pidFile, JSON.stringify({ pgid, owner: this.owner } satisfies PidRecord));

    const closed = (s: NodeJS.ReadableStream) => new Promise<void>((r) => s.once('close', r));
    const streamsClosed = Promise.all([closed(child.stdout), closed(child.stderr)]);
    child.stdout.on('data', (chunk: Buffer) => {
      lines?.push(chunk);
      stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
    const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((r) =>
      child.once('exit', (code, sig) => r({ code, sig })),
    );

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pgid);
    }, limits.timeoutS * 1000);
    const onAbort = () => killGroup(pgid);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      const { code, sig } = await exited;
      const wallMs = Date.now() - started;
      clearTimeout(timer);
      killGroup(pgid); // what it left running dies with it, as in a removed container
      await Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 2000))]);
      lines?.end();
      signal?.throwIfAborted();
      // SIGKILL that was not ours is the kernel's OOM killer; RLIMIT_AS shows as a MemoryError.
      const oomKilled = !timedOut && (sig === 'SIGKILL' || (code !== 0 && diedOfMemory(stderr.text())));
      return {
        exitCode: timedOut || oomKilled ? null : (code ?? 128 + (constants.signals[sig!] ?? 0)),
        timedOut,
        oomKilled,
        ...outputOf(stdout, stderr),
        wallMs,
        workspaceDir,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      killGroup(pgid);
      await rm(pidFile, { force: true });
      await rm(codeDir, { recursive: true, force: true });
      await rm(tmpDir, { recursive: true, force: true });
    }
  }

  /** Kills the process groups of runs whose workers died on this host (their pid files say whose); returns how many. */
  async reapOrphans(): Promise<number> {
    const host = hostname();
    let reaped = 0;
    for (const key of await readdir(this.options.runsDir).catch(() => [])) {
      const record = await this.record(join(this.options.runsDir, key));
      if (!record) continue;
      const [ownerHost, ownerPid] = record.owner.split(':');
      if (ownerHost !== host || alive(Number(ownerPid))) continue;
      await this.reap(join(this.options.runsDir, key), key);
      reaped += 1;
    }
    return reaped;
  }

  private async record(runDir: string): Promise<PidRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(runDir, 'pid.json'), 'utf8')) as PidRecord;
    } catch {
      return undefined; // no run there, or a torn file
    }
  }

  /** Kills a run's process group (if it is still that run's) and removes its pid file and code. */
  private async reap(runDir: string, key: string): Promise<void> {
    const record = await this.record(runDir);
    if (!record) return;
    if (await groupIsRun(record.pgid, key)) killGroup(record.pgid);
    await rm(join(runDir, 'pid.json'), { force: true });
    await rm(join(runDir, 'code'), { recursive: true, force: true });
    await rm(join(runDir, 'tmp'), { recursive: true, force: true });
  }
}
