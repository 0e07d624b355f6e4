import { NativeConnection, type Worker } from '@temporalio/worker';
import Docker from 'dockerode';
import { createAnvilClient, type TemporalConnection } from '../client';
import type { AnvilConfig } from '../config';
import type { QueueKind } from '../domain/queues';
import { openCatalogs } from '../package/open-catalog';
import { createWorker } from './index';

export interface InProcessWorkers {
  workers: Worker[];
  /** runs them until `until` settles (without it, until SIGINT/SIGTERM), then closes their connection */
  run(until?: Promise<unknown>): Promise<void>;
}

/**
 * Workers of these kinds in this process (`anvil worker`, `anvil dev`, the embedded default), on
 * the cluster `temporal` reaches. They poll over a native connection of their own: a client's
 * connection cannot serve workers.
 */
export async function startWorkers(
  temporal: TemporalConnection,
  config: AnvilConfig,
  kinds: QueueKind[],
): Promise<InProcessWorkers> {
  const catalogs = await openCatalogs(config);
  const connection = await NativeConnection.connect({ address: temporal.address });
  const deps = {
    connection,
    anvil: await createAnvilClient(config, { temporal }),
    config,
    docker: new Docker(),
    catalogs,
  };
  let workers: Worker[];
  try {
    workers = (await Promise.all(kinds.map((kind) => createWorker(kind, deps)))).flat();
  } catch (err) {
    await connection.close();
    throw err;
  }
  return {
    workers,
    async run(until) {
      try {
        await Promise.all(workers.map((w) => (until ? w.runUntil(until) : w.run())));
      } finally {
        await connection.close();
      }
    },
  };
}
