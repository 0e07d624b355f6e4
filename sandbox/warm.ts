import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { RunResult, SandboxLimits } from '../domain/sandbox';
import { CappedOutput, outputOf } from './capped-output';
import { ANVIL_LABEL, assertReadableByOthers, containerOwner, gpuDevices, isolatedHostConfig } from './docker';
import { sandboxImageTag } from './image';

export interface WarmSessionSpec {
  /** names the session stably: a worker that restarts finds (or recreates) the same container */
  sessionKey: string;
  /** host folder mounted read-only at /data */
  dataDir?: string;
  /** host folder mounted at /workspace; it outlives the container, so steps keep their files */
  workspaceDir: string;
  limits: SandboxLimits;
}

/** Resolves when a hijacked exec stream ends, however it ends. */
function ended(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((done) => {
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', () => done());
  });
}

/**
 * One long-lived container per session; each step runs in it with `docker exec`, as the
 * unprivileged sandbox user, under the session's CPU, memory and pids limits, with no network.
 * PID 1 is tini, as root, so a step can neither kill the session nor leave zombies behind.
 */
export class WarmDockerSandbox {
  private readonly image: string;
  private readonly owner = containerOwner();
  /** the cgroup's OOM-kill count each session was last seen at */
  private readonly oomKillsSeen = new Map<string, number>();

  constructor(
    private readonly docker: Docker,
    private readonly options: {
      image?: string;
      runsDir: string;
      /** host GPU ids every session container gets (a GPU host's Dojo sessions); unset or empty = none */
      gpus?: readonly string[];
    },
  ) {
    this.image = options.image ?? sandboxImageTag();
  }

  private names(sessionKey: string) {
    const key = createHash('sha256').update(sessionKey).digest('hex').slice(0, 16);
    return { name: `anvil-session-${key}`, codeDir: resolve(this.options.runsDir, `session-${key}`, 'code') };
  }

  /** The session's running container, created (or restarted) when missing. */
  async ensure(spec: WarmSessionSpec): Promise<Docker.Container> {
    const { name, codeDir } = this.names(spec.sessionKey);
    const existing = this.docker.getContainer(name);
    const state = await existing.inspect().then(
      (i) => i.State,
      () => undefined,
    );
    if (state?.Running) {
      if (!this.oomKillsSeen.has(spec.sessionKey))
        this.oomKillsSeen.set(spec.sessionKey, await this.oomKills(existing));
      return existing;
    }
    if (state) await existing.remove({ force: true });
    if (spec.dataDir) await assertReadableByOthers(spec.dataDir);
    await mkdir(codeDir, { recursive: true });
    await mkdir(spec.workspaceDir, { recursive: true });
    await chmod(spec.workspaceDir, 0o777);
    const binds = [`${codeDir}:/code:ro`, `${resolve(spec.workspaceDir)}:/workspace:rw`];
    if (spec.dataDir) binds.push(`${resolve(spec.dataDir)}:/data:ro`);
    const container = await this.docker.createContainer({
      name,
      Image: this.image,
      Cmd: ['sleep', 'infinity'],
      User: '0:0',
      Labels: { [ANVIL_LABEL]: '1', 'anvil.owner': this.owner, 'anvil.session': spec.sessionKey.slice(0, 200) },
      NetworkDisabled: true,
      HostConfig: {
        ...isolatedHostConfig(spec.limits, binds),
        Init: true,
        ...gpuDevices(this.options.gpus),
      },
    });
    await container.start();
    this.oomKillsSeen.set(spec.sessionKey, 0);
    return container;
  }

  /** Runs one step's code in the session; a step over its time limit is killed, the session lives on. */
  async exec(spec: WarmSessionSpec, code: string, signal?: AbortSignal): Promise<RunResult> {
    const container = await this.ensure(spec);
    const { codeDir } = this.names(spec.sessionKey);
    await writeFile(join(codeDir, 'main.py'), code);
    const { limits } = spec;
    const exec = await container.exec({
      Cmd: ['timeout', '-s', 'KILL', String(limits.timeoutS), 'python3', '/code/main.py'],
      User: '10001:10001',
      WorkingDir: '/workspace',
      Env: [
        'HOME=/workspace',
        'PYTHONUNBUFFERED=1',
        'PYTHONDONTWRITEBYTECODE=1',
        'OMP_NUM_THREADS=1',
        'MPLCONFIGDIR=/tmp',
      ],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stdout = new CappedOutput(limits.outputBytes);
    const stderr = new CappedOutput(limits.outputBytes);
    const started = Date.now();
    const stream = await exec.start({ hijack: true, stdin: false });
    this.docker.modem.demuxStream(stream, stdout, stderr);
    // A cancelled step ends at once; every step ends with its stray processes gone.
    const onAbort = () => void this.killStepProcesses(container);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await ended(stream);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.killStepProcesses(container);
    }
    signal?.throwIfAborted();
    const wallMs = Date.now() - started;
    const { ExitCode } = await exec.inspect();
    // `timeout -s KILL` exits 137 at the limit; the kernel's OOM killer also sends SIGKILL, and
    // counts it in the container's cgroup.
    const killed = ExitCode === 137;
    let oomKilled = false;
    if (killed) {
      const kills = await this.oomKills(container);
      oomKilled = kills > (this.oomKillsSeen.get(spec.sessionKey) ?? 0);
      this.oomKillsSeen.set(spec.sessionKey, kills);
    }
    const timedOut = killed && !oomKilled && wallMs >= limits.timeoutS * 1000 - 250;
    return {
      exitCode: timedOut || oomKilled ? null : ExitCode,
      timedOut,
      oomKilled,
      ...outputOf(stdout, stderr),
      wallMs,
      workspaceDir: resolve(spec.workspaceDir),
    };
  }

  /** Processes the OOM killer ended in the container so far (cgroup v2 memory.events, or v1 oom_control). */
  private async oomKills(container: Docker.Container): Promise<number> {
    const text = await this.run(
      container,
      ['sh', '-c', 'cat /sys/fs/cgroup/memory.events 2>/dev/null || cat /sys/fs/cgroup/memory/memory.oom_control'],
      '0:0',
    );
    return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
  }

  /** A short command in the container; its output, or '' if the container is gone. */
  private async run(container: Docker.Container, cmd: string[], user: string): Promise<string> {
    try {
      const exec = await container.exec({ Cmd: cmd, User: user, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const out = new CappedOutput(64 * 1024);
      this.docker.modem.demuxStream(stream, out, new CappedOutput(1024));
      await ended(stream);
      return out.text();
    } catch {
      return ''; // the container is gone: the next step recreates it
    }
  }

  /** Kills every process of the sandbox user (the step's own and any it left running); PID 1 is root's. */
  private async killStepProcesses(container: Docker.Container): Promise<void> {
    await this.run(container, ['kill', '-9', '-1'], '10001:10001');
  }

  /** Stops whatever the session's steps left running and empties its /workspace; the container stays. */
  async reset(spec: WarmSessionSpec): Promise<void> {
    const container = await this.ensure(spec);
    await this.killStepProcesses(container);
    // As the sandbox user, who owns what the steps wrote (the worker may not be root).
    await this.run(container, ['find', '/workspace', '-mindepth', '1', '-delete'], '10001:10001');
  }

  /** Ends the session's container; its workspace stays on the host. */
  async stop(sessionKey: string): Promise<void> {
    await this.docker
      .getContainer(this.names(sessionKey).name)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
  }
}
