import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { RunResult } from '../domain/sandbox';

/** What the fork server (sandbox/harness/fork_server.py) answers for one step. */
export type ServerRun = Omit<RunResult, 'workspaceDir'> & {
  /** the container's OOM kills so far (the fork server reads its cgroup) */
  oomKills?: number;
};

/** A secret a step's server must be given before it runs anything; see fork_server.py for why it rotates. */
export const stepToken = () => randomBytes(32).toString('hex');

/**
 * The fork server could not run the step. `started` says whether the step may have run (the server
 * said it started it, then vanished): such a step is over, not to be run again.
 */
export class ServerLost extends Error {
  constructor(
    message: string,
    readonly started: boolean,
  ) {
    super(message);
  }
}

export interface ServerStep {
  socketPath: string;
  token: string;
  /** the token the server holds after this step, sent once the step's processes are gone */
  next: string;
  /** the step's file inside the container */
  path: string;
  timeoutS: number;
  /** the step may grow its address space by this much past what it inherits from the server */
  memoryMb: number;
  outputBytes: number;
  signal?: AbortSignal;
}

/**
 * One step through the session's fork server: the run, and whether the server took the next token
 * (if not, it is trusted no more).
 */
export function runOnServer(step: ServerStep): Promise<{ run: ServerRun; rotated: boolean }> {
  const { socketPath, token, next, path, timeoutS, memoryMb, outputBytes, signal } = step;
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffered = '';
    let run: ServerRun | undefined;
    let started = false;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      done();
      socket.destroy();
      reject(err);
    };
    // The server ends every step by its own time limit; past this it is hung (or stopped by agent code).
    const timer = setTimeout(
      () => fail(new ServerLost('the step server did not answer in time', started)),
      (timeoutS + 30) * 1000,
    );
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('step cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => {
      socket.write(`${JSON.stringify({ token, path, timeoutS, memoryMb, outputBytes })}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as ServerRun & {
          error?: string;
          ok?: boolean;
          started?: boolean;
        };
        buffered = buffered.slice(newline + 1);
        if (line.error) return fail(new ServerLost(`the step server refused the step: ${line.error}`, false));
        if (line.started) started = true;
        else if (run === undefined) {
          run = line;
          socket.write(`${JSON.stringify({ next })}\n`);
        } else if (line.ok) {
          done();
          socket.end();
          resolve({ run, rotated: true });
        }
      }
    });
    socket.on('error', () => undefined); // 'close' follows and says what it meant
    socket.on('close', () => {
      done();
      if (run) resolve({ run, rotated: false });
      else reject(new ServerLost('the step server is gone', started));
    });
  });
}
