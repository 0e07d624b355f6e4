import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import type { RunResult, SandboxLimits } from '../domain/sandbox';
import { CappedOutput, outputOf } from './capped-output';
import { LineSplitter } from './line-splitter';
import { DEFAULT_SANDBOX_PROFILE, type SandboxProfile } from '../domain/task';
import { sandboxImageTag } from './image';
import type { ResolvedRunSpec, RunOptions, Sandbox } from './sandbox';

/** Every sandbox container carries this label; `docker ps -a --filter label=anvil` lists them. */
export const ANVIL_LABEL = 'anvil';
const OWNER_LABEL = 'anvil.owner';
const RUN_LABEL = 'anvil.run';
/** the unprivileged user made by sandbox/image */
const SANDBOX_USER = '10001:10001';

export interface DockerSandboxOptions {
  /** unset = the image built from sandbox/image */
  image?: string;
  /** host directory under which each run gets code/ and (unless given one) workspace/ */
  runsDir: string;
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/**
 * Who started a container: host, pid and a token of this process. The token tells a restarted
 * worker from its crashed predecessor when both got the same pid (pid 1 of a worker container).
 */
const PROCESS_TOKEN = randomUUID().slice(0, 8);
export const containerOwner = () => `${hostname()}:${process.pid}:${PROCESS_TOKEN}`;

/** Whether the process that labelled a container `owner` is gone from this host. */
function ownerGone(owner: string): boolean {
  const [ownerHost, ownerPid, token] = owner.split(':');
  if (ownerHost !== hostname()) return false; // another host's worker reaps its own
  if (Number(ownerPid) === process.pid) return token !== undefined && token !== PROCESS_TOKEN;
  return !pidAlive(Number(ownerPid));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The part of the isolation policy that does not depend on the run, as data (docs/security.md
 * explains each): no network, no capabilities, no privilege gain through setuid binaries, the
 * engine's default seccomp profile (DockerSandbox.check refuses an engine without seccomp), a
 * read-only root, rlimits on open files and file size, no core dumps, and no engine log file
 * (output is streamed and capped by the worker, so nothing can fill the disk there).
 */
export const ISOLATION_POLICY = {
  NetworkMode: 'none',
  ReadonlyRootfs: true,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges'],
  Ulimits: [
    { Name: 'nofile', Soft: 4096, Hard: 4096 },
    { Name: 'fsize', Soft: 8 * 1024 ** 3, Hard: 8 * 1024 ** 3 }, // bytes: no single file over 8 GiB
    { Name: 'core', Soft: 0, Hard: 0 },
  ],
  LogConfig: { Type: 'none', Config: {} },
} as const satisfies Docker.HostConfig;

/**
 * What every sandbox container gets, one-shot or warm: ISOLATION_POLICY, and the run's CPU,
 * memory (no swap) and pids limits, a small /tmp and its mounts.
 */
export function isolatedHostConfig(limits: SandboxLimits, binds: string[]): Docker.HostConfig {
  return {
    ...(structuredClone(ISOLATION_POLICY) as Docker.HostConfig),
    Memory: limits.memoryMb * 1024 * 1024,
    MemorySwap: limits.memoryMb * 1024 * 1024, // no swap: over the limit means OOM
    NanoCpus: Math.round(limits.cpus * 1e9),
    PidsLimit: limits.pids,
    Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${limits.tmpMb}m` },
    Binds: binds,
  };
}

/** The host GPUs (nvidia-smi ids) a container gets through the NVIDIA runtime; none for an empty list. */
export function gpuDevices(gpus: readonly string[] = []): Pick<Docker.HostConfig, 'DeviceRequests'> {
  return gpus.length ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: [...gpus], Capabilities: [['gpu']] }] } : {};
}

/** The sandbox user is nobody the host knows: the data folder must be readable by "others". */
export async function assertReadableByOthers(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`sandbox data folder ${dir} does not exist or is not a folder`);
  if ((info.mode & 0o005) !== 0o005) {
    throw new Error(
      `sandbox data folder ${dir} (mode ${(info.mode & 0o777).toString(8)}) is not readable by the sandbox user; make it readable: chmod -R a+rX ${dir}`,
    );
  }
}

/** Runs each spec in a fresh container: no network, capped CPU/memory/pids/time/output, non-root. */
export class DockerSandbox implements Sandbox {
  private readonly image: string;
  private readonly owner = containerOwner();

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerSandboxOptions,
  ) {
    this.image = options.image ?? sandboxImageTag();
  }

  /** Fails with what to do when the engine or the image is missing. */
  async check(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error(`Docker engine not reachable (${(err as Error).message}); start dockerd or run \`make setup\``);
    }
    const { SecurityOptions } = (await this.docker.info()) as { SecurityOptions?: string[] };
    if (SecurityOptions && !SecurityOptions.some((o) => o.startsWith('name=seccomp'))) {
      throw new Error('the Docker engine runs without seccomp: sandboxes need its default profile (docs/security.md)');
    }
    try {
      await this.docker.getImage(this.image).inspect();
    } catch (err) {
      if (isNotFound(err)) throw new Error(`sandbox image ${this.image} is missing; build it with \`make setup\``);
      throw err;
    }
  }

  /** The image of a profile: this sandbox's own for the default one, else the profile's, which must be built. */
  private async imageOf(profile: SandboxProfile | undefined): Promise<string> {
    if (!profile || profile === DEFAULT_SANDBOX_PROFILE) return this.image;
    const image = sandboxImageTag(undefined, profile);
    try {
      await this.docker.getImage(image).inspect();
    } catch (err) {
      if (isNotFound(err))
        throw new Error(
          `sandbox image ${image} of profile ${profile} is missing on this host; build it once with \`scripts/ensure-sandbox-image.sh ${profile}\``,
        );
      throw err;
    }
    return image;
  }

  async run(spec: ResolvedRunSpec, { runKey, signal, onStdoutLine, gpus, profile }: RunOptions): Promise<RunResult> {
    signal?.throwIfAborted();
    const image = await this.imageOf(profile);
    if (spec.dataDir) await assertReadableByOthers(spec.dataDir);
    const key = createHash('sha256').update(runKey).digest('hex').slice(0, 16);
    const name = `anvil-run-${key}`;
    const runDir = resolve(this.options.runsDir, key);
    const codeDir = join(runDir, 'code');
    const workspaceDir = resolve(spec.workspaceDir ?? join(runDir, 'workspace'));

    // A retried attempt replaces what a lost one left behind.
    await this.remove(name);
    await rm(codeDir, { recursive: true, force: true });
    if (!spec.workspaceDir) await rm(workspaceDir, { recursive: true, force: true });
    await mkdir(codeDir, { recursive: true });
    await mkdir(workspaceDir, { recursive: true });
    await chmod(workspaceDir, 0o777); // the sandbox user is not the worker's user
    await writeFile(join(codeDir, 'main.py'), spec.code);

    const { limits } = spec;
    const binds = [`${codeDir}:/code:ro`, `${workspaceDir}:/workspace:rw`];
    if (spec.dataDir) binds.push(`${resolve(spec.dataDir)}:/data:ro`);
    const container = await this.docker.createContainer({
      name,
      Image: image,
      Cmd: ['python3', '/code/main.py'],
      User: SANDBOX_USER,
      WorkingDir: '/workspace',
      Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
      Labels: { [ANVIL_LABEL]: '1', [OWNER_LABEL]: this.owner, [RUN_LABEL]: runKey.slice(0, 200) },
      NetworkDisabled: true,
      HostConfig: {
        ...isolatedHostConfig(limits, binds),
        ...gpuDevices(gpus),
      },
    });

    const stdout = new CappedOutput(limits.outputBytes);
    const stderr = new CappedOutput(limits.outputBytes);
    // With a line callback, stdout goes both to the capped capture and, whole, to the splitter.
    const lines = onStdoutLine ? new LineSplitter(onStdoutLine) : undefined;
    const stdoutSink = lines
      ? new Writable({
          write(chunk: Buffer, _enc, done) {
            lines.push(chunk);
            stdout.write(chunk);
            done();
          },
        })
      : stdout;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = () => container.kill().catch(() => undefined);
    const onAbort = () => void kill();
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      this.docker.modem.demuxStream(stream, stdoutSink, stderr);
      const streamEnded = new Promise<void>((done) => {
        stream.on('end', done);
        stream.on('close', done);
        stream.on('error', () => done());
      });
      const started = Date.now();
      await container.start();
      timer = setTimeout(() => {
        timedOut = true;
        void kill();
      }, limits.timeoutS * 1000);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort(); // cancelled while starting
      const exit = (await container.wait()) as { StatusCode: number };
      const wallMs = Date.now() - started;
      clearTimeout(timer);
      await Promise.race([streamEnded, new Promise((r) => setTimeout(r, 2000))]);
      lines?.end();
      signal?.throwIfAborted();
      const state = (await container.inspect()).State;
      const killed = timedOut || state.OOMKilled;
      return {
        exitCode: killed ? null : exit.StatusCode,
        timedOut,
        oomKilled: state.OOMKilled,
        ...outputOf(stdout, stderr),
        wallMs,
        workspaceDir,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      await this.remove(name);
      await rm(codeDir, { recursive: true, force: true });
    }
  }

  async reapOrphans(): Promise<number> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [ANVIL_LABEL] } });
    let reaped = 0;
    for (const c of containers) {
      if (!ownerGone(c.Labels[OWNER_LABEL] ?? '')) continue;
      await this.remove(c.Id);
      reaped += 1;
    }
    return reaped;
  }

  private async remove(nameOrId: string): Promise<void> {
    try {
      await this.docker.getContainer(nameOrId).remove({ force: true, v: true });
    } catch (err) {
      // 404: already gone; 409: removal already in progress
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 404 && code !== 409) throw err;
    }
  }
}
