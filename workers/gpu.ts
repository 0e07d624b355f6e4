import { execFileSync } from 'node:child_process';
import type { Worker } from '@temporalio/worker';
import type { AnvilConfig } from '../config';
import type { WorkerDeps } from './deps';
import { createSandboxWorkers } from './sandbox-workers';

/** GPUs on this host, as `nvidia-smi -L` lists them (0 without a driver). */
export function countGpus(): number {
  try {
    return execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 }).split('\n').filter((l) => l.startsWith('GPU ')).length;
  } catch {
    return 0;
  }
}

/** The GPUs a GPU worker may use here; throws on a host without one unless emulation is on. */
export function gpusForWorker(config: AnvilConfig): number {
  const gpus = countGpus();
  if (gpus === 0 && !config.workers.gpuEmulate) {
    throw new Error('no GPU on this host (nvidia-smi lists none): run the GPU worker on a GPU host, or set ANVIL_GPU_EMULATE=1 to run GPU work on CPU (tests only)');
  }
  return gpus;
}

/** `<prefix>-gpu` (sandbox runs that need a GPU; one at a time per GPU unless configured) and this host's GPU session queue. */
export async function createGpuWorker(deps: WorkerDeps): Promise<Worker[]> {
  const gpus = gpusForWorker(deps.config);
  return createSandboxWorkers(deps, 'gpu', { gpus, concurrency: deps.config.workers.gpuConcurrency ?? Math.max(1, gpus) });
}
