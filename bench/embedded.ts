import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { type AnvilClient, createAnvilClient } from '../client';
import { type AnvilConfig, loadConfig } from '../config';
import type { QueueKind } from '../domain/queues';
import { startWorkers } from '../workers/in-process';
import { installQuietRuntime } from '../workers/runtime';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface Embedded {
  anvil: AnvilClient;
  client: Client;
  config: AnvilConfig;
  stop(): Promise<void>;
}

/** A private dev server (temporary SQLite, own ports) with the given workers in this process; `env` adds settings. */
export async function startEmbedded(kinds: QueueKind[], env: Record<string, string> = {}): Promise<Embedded> {
  installQuietRuntime();
  const home = mkdtempSync(join(tmpdir(), 'anvil-bench-'));
  const config = loadConfig({
    ANVIL_HOME: home,
    ANVIL_CONFIG: join(__dirname, '..', 'tests', 'helpers', 'empty-config.json'),
    ANVIL_DEV_SERVER_PORT: String(await freePort()),
    ANVIL_DEV_SERVER_UI_PORT: String(await freePort()),
    ANVIL_TASK_QUEUE_PREFIX: 'bench',
    ...env,
  });
  const anvil = await createAnvilClient(config);
  const { temporal } = anvil;
  let stopWorkers = () => {};
  const running = (await startWorkers(temporal, config, kinds)).run(new Promise<void>((done) => (stopWorkers = done)));
  return {
    anvil,
    client: temporal.client,
    config,
    async stop() {
      stopWorkers();
      await running;
      await anvil.close();
      const server = temporal.devServer?.process;
      if (server && server.exitCode === null) {
        const exited = new Promise((done) => server.once('exit', done));
        server.kill('SIGTERM');
        await exited; // it writes its database until it has exited
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
