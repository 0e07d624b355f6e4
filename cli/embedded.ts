import { type AnvilClient, type AnvilClientOptions, createAnvilClient } from '../client';
import type { AnvilConfig } from '../config';
import { embeddedKinds } from '../workers';
import { startWorkers } from '../workers/in-process';

/**
 * Runs `fn` as a client of Temporal. In the embedded default (no TEMPORAL_ADDRESS) a local dev
 * server is started or reused — and left running for its Web UI — and the workers run in-process
 * while `fn` runs; against a cluster, the cluster's workers do the work.
 */
export async function withTemporal<T>(
  config: AnvilConfig,
  fn: (anvil: AnvilClient) => Promise<T>,
  options: Pick<AnvilClientOptions, 'catalogDir' | 'listTasks'> = {},
): Promise<T> {
  const anvil = await createAnvilClient(config, { ...options, detachServer: true });
  try {
    if (!anvil.temporal.devServer) return await fn(anvil);
    // the in-process workers open tasks in the catalog the command names (e.g. `anvil fidelity --catalog DIR`)
    const served = options.catalogDir ? { ...config, paths: { ...config.paths, catalog: options.catalogDir } } : config;
    const workers = await startWorkers(anvil.temporal, served, embeddedKinds({ config: served }));
    const work = fn(anvil);
    await workers.run(work.catch(() => undefined));
    return await work;
  } finally {
    await anvil.close();
  }
}
