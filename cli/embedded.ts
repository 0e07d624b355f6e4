import type { Worker } from '@temporalio/worker';
import Docker from 'dockerode';
import type { AnvilConfig } from '../config';
import { type QueueKind } from '../domain/queues';
import { connectTemporal, type Temporal } from '../workers/connect';
import { createWorker, embeddedKinds } from '../workers';

export async function startWorkers(temporal: Temporal, config: AnvilConfig, kinds: QueueKind[]): Promise<Worker[]> {
  const deps = { connection: temporal.workerConnection, client: temporal.client, config, docker: new Docker() };
  return (await Promise.all(kinds.map((kind) => createWorker(kind, deps)))).flat();
}

/**
 * Runs `fn` as a client of Temporal. In the embedded default (no TEMPORAL_ADDRESS) a local dev
 * server is started or reused — and left running for its Web UI — and the workers run in-process
 * while `fn` runs; against a cluster, the cluster's workers do the work.
 */
export async function withTemporal<T>(config: AnvilConfig, fn: (temporal: Temporal) => Promise<T>): Promise<T> {
  const temporal = await connectTemporal(config, { detachServer: true });
  try {
    if (!temporal.devServer) return await fn(temporal);
    const workers = await startWorkers(temporal, config, embeddedKinds({ config }));
    const work = fn(temporal);
    await Promise.all(workers.map((w) => w.runUntil(work.catch(() => undefined))));
    return await work;
  } finally {
    await temporal.close();
  }
}
