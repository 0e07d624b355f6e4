import { Worker } from '@temporalio/worker';
import { createSandboxActivities } from '../activities/sandbox';
import { createVerificationActivities } from '../activities/verification';
import { taskQueueName } from '../domain/queues';
import { readySandbox, scratchDir, type WorkerDeps } from './deps';

/** `<prefix>-cpu`: sandbox runs on CPU. */
export async function createCpuWorker(deps: WorkerDeps): Promise<Worker> {
  const { connection, config } = deps;
  const sandbox = await readySandbox(deps);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'cpu'),
    activities: {
      ...createSandboxActivities({ sandbox, defaults: config.sandbox.limits, attachGpus: false }),
      ...createVerificationActivities({ sandbox, scratchDir: scratchDir(config) }),
    },
    // Cancellation reaches an activity only with a heartbeat's reply: send them often enough
    // that a cancelled run's container is gone within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    maxConcurrentActivityTaskExecutions: config.workers.cpuConcurrency,
  });
}
