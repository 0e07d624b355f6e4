import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

/** The CLI built by `make setup`, else one on PATH. */
export function temporalExecutable(): string {
  const local = join(__dirname, '..', '.tools', 'bin', 'temporal');
  return existsSync(local) ? local : 'temporal';
}

/**
 * The dev server's SQLite file. WAL: a commit appends to one log instead of writing a rollback
 * journal and then the database (one sync instead of three, and a Dojo step is several commits).
 * synchronous=NORMAL syncs that log at checkpoints, not at each commit: a killed server or worker
 * loses nothing; a power cut may lose the last commits, never the file's integrity.
 */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface DevServerOptions {
  port: number;
  /** null = no Web UI (`--headless`) */
  uiPort: number | null;
  /** null = in memory */
  dbFile: string | null;
  namespace: string;
  /** leave it running after this process exits (pid file beside the log) */
  detached: boolean;
  /** folder for temporal.log and temporal.pid */
  home: string;
}

export interface DevServer {
  address: string;
  /** the process this call started; undefined when an already-running server was reused */
  process?: ChildProcess;
  reused: boolean;
}

async function tryConnect(address: string, timeoutMs: number): Promise<Connection | undefined> {
  try {
    return await Connection.connect({ address, connectTimeout: timeoutMs });
  } catch {
    return undefined;
  }
}

/** Registers Anvil's search attributes that the namespace lacks (a reused server may have none). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((name) => !(name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
  });
}

/** Reuses a dev server that answers on the port, or starts one and waits until it answers. */
export async function ensureDevServer(opts: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${opts.port}`;
  const existing = await tryConnect(address, 1000);
  if (existing) {
    try {
      await ensureSearchAttributes(existing, opts.namespace);
    } finally {
      await existing.close();
    }
    return { address, reused: true };
  }

  mkdirSync(opts.home, { recursive: true });
  if (opts.dbFile) mkdirSync(dirname(opts.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
  ];
  args.push(...(opts.uiPort === null ? ['--headless'] : ['--ui-port', String(opts.uiPort)]));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, ...SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]));
  for (const name of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=Keyword`);

  const logFile = join(opts.home, `temporal-${opts.port}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(temporalExecutable(), args, { detached: opts.detached, stdio: ['ignore', log, log] });
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  child.once('error', () => undefined); // reported below through `exited`/timeout
  if (opts.detached) {
    child.unref();
    writeFileSync(join(opts.home, `temporal-${opts.port}.pid`), String(child.pid));
  }

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const code = await Promise.race([exited, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 300))]);
    if (code !== 'wait') {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-1500) : '';
      throw new Error(
        `Temporal dev server (${temporalExecutable()}) exited with ${code}; is port ${opts.port} taken? Log ${logFile}:\n${tail}\nRun \`make setup\` if the CLI is missing.`,
      );
    }
    const connection = await tryConnect(address, 1000);
    if (connection) {
      await connection.close();
      return { address, process: child, reused: false };
    }
  }
  child.kill('SIGTERM');
  throw new Error(`Temporal dev server did not answer on ${address} within 60 s; see ${logFile}`);
}

/** Stops the detached dev server recorded for this port; returns whether one was running. */
export function stopDevServer(home: string, port: number): boolean {
  const pidFile = join(home, `temporal-${port}.pid`);
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile);
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}
