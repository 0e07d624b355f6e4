import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { RunResult, SandboxLimits } from '../domain/sandbox';
import { CappedOutput, outputOf } from './capped-output';
import { ANVIL_LABEL, assertReadableByOthers, containerOwner, gpuDevices, isolatedHostConfig } from './docker';
import { DEFAULT_SANDBOX_PROFILE, type SandboxProfile } from '../domain/task';
import { sandboxImageTag } from './image';
import { runOnServer, ServerLost, type ServerRun, stepToken } from './step-server';
import { mountWorkspace, sweepLeakedMounts } from './workspace-quota';

const FORK_SERVER = resolve(__dirname, 'harness', 'fork_server.py');
/** the sandbox user made by sandbox/image */
const SANDBOX_UID = '10001';
/** the session's fork server may take this long to import the ML stack on a loaded host */
const SERVER_READY_MS = 60_000;
const STEP_ENV = [
  'HOME=/workspace',
  'PYTHONUNBUFFERED=1',
  'PYTHONDONTWRITEBYTECODE=1',
  'OMP_NUM_THREADS=1',
  'MPLCONFIGDIR=/tmp',
];

/** A session's fork server as the worker knows it: the token its next step must carry, once it listens. */
interface StepServer {
  token: string;
  ready: Promise<boolean>;
}

export interface WarmSessionSpec {
  /** names the session stably: a worker that restarts finds (or recreates) the same container */
  sessionKey: string;
  /** host folder mounted read-only at /data */
  dataDir?: string;
  /** host folder mounted at /workspace; it outlives the container, so steps keep their files */
  workspaceDir: string;
  limits: SandboxLimits;
  /** the task's sandbox image profile; unset = this sandbox's image */
  profile?: SandboxProfile;
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
 * One long-lived container per session, under the session's CPU, memory and pids limits, with no
 * network. Each step runs as the unprivileged sandbox user in a child forked by the session's fork
 * server (a warm interpreter with the ML stack imported; sandbox/harness/fork_server.py), reached
 * through a Unix socket in a host folder mounted at /anvil. When that server is gone or not trusted,
 * the step runs with a plain `docker exec` and the server is restarted. Either way a step is a fresh
 * process and every process it started is gone when it ends. PID 1 is tini, as root, so a step can
 * neither kill the session nor leave zombies behind.
 */
export class WarmDockerSandbox {
  private readonly image: string;
  private readonly owner = containerOwner();
  /** the cgroup's OOM-kill count each session was last seen at */
  private readonly oomKillsSeen = new Map<string, number>();
  /** each session's fork server, while it is trusted */
  private readonly servers = new Map<string, StepServer>();

  constructor(
    private readonly docker: Docker,
    private readonly options: {
      image?: string;
      runsDir: string;
      /** host GPU ids every session container gets (a GPU host's Dojo sessions); unset or empty = none */
      gpus?: readonly string[];
      /** each session's /workspace is a filesystem of this size (sandbox/workspace-quota.ts); unset = a plain folder */
      workspaceQuotaMb?: number;
    },
  ) {
    this.image = options.image ?? sandboxImageTag();
  }

  private names(sessionKey: string) {
    const key = createHash('sha256').update(sessionKey).digest('hex').slice(0, 16);
    const dir = resolve(this.options.runsDir, `session-${key}`);
    const ctlDir = join(dir, 'ctl');
    return { name: `anvil-session-${key}`, codeDir: join(dir, 'code'), ctlDir, socketPath: join(ctlDir, 's') };
  }

  /** The session's running container, created (or restarted) when missing. */
  async ensure(spec: WarmSessionSpec): Promise<Docker.Container> {
    const { name, codeDir, ctlDir, socketPath } = this.names(spec.sessionKey);
    if (socketPath.length > 107) {
      throw new Error(`the step socket path ${socketPath} is too long for a Unix socket: use a shorter runs folder`);
    }
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
    if (this.options.workspaceQuotaMb) await mountWorkspace(spec.workspaceDir, this.options.workspaceQuotaMb);
    await chmod(spec.workspaceDir, 0o777);
    await mkdir(ctlDir, { recursive: true });
    await chmod(ctlDir, 0o777); // the fork server, as the sandbox user, makes its socket there
    const binds = [
      `${codeDir}:/code:ro`,
      `${resolve(spec.workspaceDir)}:/workspace:rw`,
      `${ctlDir}:/anvil:rw`,
      `${FORK_SERVER}:/harness/fork_server.py:ro`,
    ];
    if (spec.dataDir) binds.push(`${resolve(spec.dataDir)}:/data:ro`);
    const container = await this.docker.createContainer({
      name,
      Image:
        spec.profile && spec.profile !== DEFAULT_SANDBOX_PROFILE
          ? sandboxImageTag(undefined, spec.profile)
          : this.image,
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
    await this.startServer(spec.sessionKey, container);
    return container;
  }

  /** Starts the session's fork server (any earlier one must be gone); it listens once it has imported. */
  private async startServer(sessionKey: string, container: Docker.Container): Promise<void> {
    const { socketPath } = this.names(sessionKey);
    await rm(socketPath, { force: true });
    const token = stepToken();
    try {
      const exec = await container.exec({
        Cmd: ['python3', '-I', '/harness/fork_server.py', '/anvil/s'],
        User: '10001:10001',
        WorkingDir: '/workspace',
        Env: [...STEP_ENV, `ANVIL_STEP_TOKEN=${token}`],
      });
      await exec.start({ Detach: true });
    } catch {
      return; // the container is gone: the next step recreates it, with a server
    }
    const ready = (async () => {
      for (const started = Date.now(); Date.now() - started < SERVER_READY_MS; await sleep(20)) {
        if (existsSync(socketPath)) return true;
      }
      return false;
    })();
    this.servers.set(sessionKey, { token, ready });
  }

  /**
   * Runs one step's code in the session; a step over its time limit is killed, the session lives on.
   * A trusted server stands for a running container: its step asks Docker nothing.
   */
  async exec(spec: WarmSessionSpec, code: string, signal?: AbortSignal, recreated = false): Promise<RunResult> {
    const { name, codeDir, socketPath } = this.names(spec.sessionKey);
    if (!this.servers.has(spec.sessionKey)) await this.ensure(spec);
    const server = this.servers.get(spec.sessionKey);
    this.servers.delete(spec.sessionKey); // trusted again only once it takes the next token
    await writeFile(join(codeDir, 'main.py'), code);
    if (server && (await server.ready)) {
      const container = this.docker.getContainer(name);
      const next = stepToken();
      const { timeoutS, memoryMb, outputBytes } = spec.limits;
      const path = '/code/main.py';
      const request = { socketPath, token: server.token, next, path, timeoutS, memoryMb, outputBytes, signal };
      try {
        const { run, rotated } = await runOnServer(request);
        if (rotated) this.servers.set(spec.sessionKey, { token: next, ready: Promise.resolve(true) });
        else await this.restartServer(spec.sessionKey, container);
        const { oomKills, ...result } = run;
        if (oomKills !== undefined) this.oomKillsSeen.set(spec.sessionKey, oomKills);
        return { ...result, workspaceDir: resolve(spec.workspaceDir) };
      } catch (err) {
        if (!(err instanceof ServerLost) || err.started) await this.restartServer(spec.sessionKey, container);
        if (!(err instanceof ServerLost)) throw err;
        if (err.started) return { ...lostStep(err.message), workspaceDir: resolve(spec.workspaceDir) };
        // refused or unreachable before the step began (the container may be gone too): a plain exec
      }
    }
    const container = await this.ensure(spec);
    this.servers.delete(spec.sessionKey);
    // Nothing runs beside the step: no untrusted server (or one agent code planted), no new one importing.
    if (!(await this.killStepProcesses(container))) {
      // What survived went with the container: a new one, with a fresh server, runs the step (once).
      if (recreated) throw new Error(`the session's container ${name} lost its processes twice in a row`);
      await this.ensure(spec);
      return this.exec(spec, code, signal, true);
    }
    const run = await this.execPlain(spec, container, signal);
    await this.startServer(spec.sessionKey, container);
    return run;
  }

  /** Ends every process of the sandbox user (the server's too), then starts a fresh server. */
  private async restartServer(sessionKey: string, container: Docker.Container): Promise<void> {
    // A removed container (processes survived) comes back, with a server, on the next step.
    if (await this.killStepProcesses(container)) await this.startServer(sessionKey, container);
  }

  /** The step's /code/main.py in a new `python3` by `docker exec`; every process of the sandbox user ends with it. */
  private async execPlain(spec: WarmSessionSpec, container: Docker.Container, signal?: AbortSignal) {
    const { limits } = spec;
    const exec = await container.exec({
      Cmd: ['timeout', '-s', 'KILL', String(limits.timeoutS), 'python3', '/code/main.py'],
      User: '10001:10001',
      WorkingDir: '/workspace',
      Env: STEP_ENV,
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
    // Gone when its processes outlived the kill (the container was removed with them): killed.
    const { ExitCode } = await exec.inspect().catch(() => ({ ExitCode: 137 }));
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

  /**
   * Kills every process of the sandbox user (the step's own and any it left running); PID 1 is
   * root's. When some survive, e.g. because a fork bomb holds the pids limit and no exec can start,
   * the container is removed (the engine kills its whole cgroup): the next use recreates it with the
   * same /workspace. Whether the container is still there.
   */
  private async killStepProcesses(container: Docker.Container): Promise<boolean> {
    await this.run(container, ['kill', '-9', '-1'], '10001:10001');
    // Killed processes take a moment to exit and be reaped by the container's init.
    for (let i = 0; i < KILL_SETTLE_POLLS; i++) {
      if ((await this.sandboxProcesses(container)) === 0) return true;
      await sleep(KILL_SETTLE_MS);
    }
    await container.remove({ force: true }).catch(() => undefined);
    return false;
  }

  /** Processes of the sandbox user in the container, as the host sees them (`docker top` needs no exec). */
  private async sandboxProcesses(container: Docker.Container): Promise<number> {
    try {
      const top = (await container.top({ ps_args: '-o pid,uid' })) as { Processes?: string[][] };
      return (top.Processes ?? []).filter((p) => p[1]?.trim() === SANDBOX_UID).length;
    } catch {
      return 0; // the container is gone
    }
  }

  /** Stops whatever the session's steps left running and empties its /workspace. */
  async reset(spec: WarmSessionSpec): Promise<void> {
    let container = await this.ensure(spec);
    this.servers.delete(spec.sessionKey);
    const kept = await this.killStepProcesses(container);
    // A removed container comes back (with a fresh server) on the same /workspace.
    if (!kept) container = await this.ensure(spec);
    // As the sandbox user, who owns what the steps wrote (the worker may not be root).
    await this.run(container, ['find', '/workspace', '-mindepth', '1', '-delete'], '10001:10001');
    if (kept) await this.startServer(spec.sessionKey, container);
  }

  /**
   * At a worker's start (after reaping the containers of workers gone from this host): unmounts the
   * workspace filesystems under `sessionsDir` that no Anvil container binds, left by a crashed
   * worker. Returns the folders unmounted.
   */
  async sweepLeakedWorkspaces(sessionsDir: string, options?: { graceMs?: number }): Promise<string[]> {
    // Any state counts: a container created but not yet started holds its workspace already.
    const containers = await this.docker.listContainers({ all: true, filters: { label: [ANVIL_LABEL] } });
    const inUse = new Set(
      containers.flatMap((c) => c.Mounts.filter((m) => m.Destination === '/workspace').map((m) => resolve(m.Source))),
    );
    return sweepLeakedMounts(sessionsDir, inUse, options);
  }

  /** Ends the session's container; its workspace stays on the host. */
  async stop(sessionKey: string): Promise<void> {
    this.servers.delete(sessionKey);
    await this.docker
      .getContainer(this.names(sessionKey).name)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
  }
}

/** How long killed processes may take to be gone before the container is removed with them: 20 × 25 ms. */
const KILL_SETTLE_POLLS = 20;
const KILL_SETTLE_MS = 25;

/** A step whose server vanished while it ran (its code ended the server): it is over, its output lost. */
function lostStep(why: string): ServerRun {
  const stderr =
    `${why} while this step ran (did the code kill its parent process?); its output is lost. ` +
    'The next step runs normally.';
  return {
    exitCode: null,
    timedOut: false,
    oomKilled: false,
    stdout: '',
    stderr,
    stdoutBytes: 0,
    stderrBytes: stderr.length,
    outputTruncated: false,
    wallMs: 0,
  };
}
