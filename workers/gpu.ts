import { execFileSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { createSandboxActivities } from '../activities/sandbox';
import { createVerificationActivities } from '../activities/verification';
import { taskQueueName } from '../domain/queues';
import type { AnvilConfig } from '../config';
import { readySandbox, scratchDir, type WorkerDeps } from './deps';

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

/** `<prefix>-gpu`: sandbox runs that need a GPU; one at a time per GPU unless configured. */
export async function createGpuWorker(deps: WorkerDeps): Promise<Worker> {
  const { connection, config } = deps;
  const gpus = gpusForWorker(config);
  const sandbox = await readySandbox(deps);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'gpu'),
    activities: {
      ...createSandboxActivities({ sandbox, defaults: config.sandbox.limits, attachGpus: gpus > 0 }),
      ...createVerificationActivities({ sandbox, scratchDir: scratchDir(config) }),
    },
    // Cancellation reaches an activity only with a heartbeat's reply: send them often enough
    // that a cancelled run's container is gone within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    maxConcurrentActivityTaskExecutions: config.workers.gpuConcurrency ?? Math.max(1, gpus),
  });
}
