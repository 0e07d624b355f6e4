import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import Docker from 'dockerode';
import { inject } from 'vitest';
import { createAnvilClient } from '../../client';
import { type AnvilConfig, loadConfig } from '../../config';
import { type QueueKind, taskQueueName } from '../../domain/queues';
import { createWorker } from '../../workers';
import { installQuietRuntime } from '../../workers/runtime';

export interface TestEnv {
  config: AnvilConfig;
  /** env vars that give a child process (e.g. `anvil worker`) this same config */
  env: NodeJS.ProcessEnv;
  client: Client;
  docker: Docker;
  controlQueue: string;
  startWorker(kind: QueueKind): Promise<Worker[]>;
  close(): Promise<void>;
}

/** Lazily unmounts any filesystem (a session's quota workspace) mounted under `dir`, so it can be removed. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`));
  for (const point of mounts) spawnSync('umount', ['-l', point]);
}

/**
 * A real connection to the run's Temporal dev server, with this file's own task-queue prefix and
 * artifact folder, so test files running side by side never take each other's tasks.
 */
export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  installQuietRuntime();
  const address = inject('temporalAddress');
  const home = mkdtempSync(join(tmpdir(), 'anvil-test-'));
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    ANVIL_HOME: home,
    ANVIL_TASK_QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    ANVIL_CONFIG: join(__dirname, 'empty-config.json'),
    // No loop-mounted workspaces unless a test asks for them (tests/hostile/ does).
    ANVIL_WORKSPACE_QUOTA_MB: '0',
    ...overrides,
  };
  const config = loadConfig(env);
  const anvil = await createAnvilClient(config);
  const workerConnection = await NativeConnection.connect({ address });
  const docker = new Docker();
  const { client } = anvil.temporal;
  const workflowBundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  return {
    config,
    env,
    client,
    docker,
    controlQueue: taskQueueName(config.taskQueuePrefix, 'control'),
    async startWorker(kind) {
      const started = await createWorker(kind, { connection: workerConnection, anvil, config, docker, workflowBundle });
      workers.push(...started);
      running.push(...started.map((w) => w.run()));
      return started;
    },
    async close() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await workerConnection.close();
      await anvil.close();
      unmountUnder(home);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
