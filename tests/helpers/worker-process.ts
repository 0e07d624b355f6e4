import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { QueueKind } from '../../domain/queues';

export interface WorkerProcess {
  child: ChildProcess;
  /** everything it printed so far */
  output(): string;
  /** resolves with its exit code or signal */
  exited: Promise<number | string | null>;
}

/**
 * `anvil worker --queue <kind>` as a separate OS process, the way an operator runs it; resolves
 * once it polls.
 */
export async function startWorkerProcess(
  kind: QueueKind,
  env: NodeJS.ProcessEnv,
  /** a command the worker runs under (its argv follows), e.g. one that gives it its own mounts */
  under: string[] = [],
): Promise<WorkerProcess> {
  const argv = [process.execPath, join(__dirname, '..', '..', 'bin', 'anvil.js'), 'worker', '--queue', kind];
  const [command, ...args] = [...under, ...argv];
  const child = spawn(command!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker ${kind} did not start polling within 60 s:\n${out}`)),
      60_000,
    );
    child.stdout!.on('data', () => {
      if (out.includes(' polling ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${kind} exited (${code}) before polling:\n${out}`));
    });
  });
  return { child, output: () => out, exited };
}
