import type { Worker } from '@temporalio/worker';
import type { WorkerDeps } from './deps';
import { createSandboxWorkers } from './sandbox-workers';

/** `<prefix>-cpu` (sandbox runs on CPU) and this host's session queue. */
export async function createCpuWorker(deps: WorkerDeps): Promise<Worker[]> {
  return createSandboxWorkers(deps, 'cpu', { gpus: [], concurrency: deps.config.workers.cpuConcurrency });
}
