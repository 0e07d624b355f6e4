import { Worker } from '@temporalio/worker';
import { createSandboxActivities } from '../activities/sandbox';
import { taskQueueName } from '../domain/queues';
import { DockerSandbox } from '../sandbox/docker';
import { runsDir, type WorkerDeps } from './deps';

/** `<prefix>-cpu`: sandbox runs on CPU. Removes containers left by dead workers before polling. */
export async function createCpuWorker({ connection, config, docker }: WorkerDeps): Promise<Worker> {
  const sandbox = new DockerSandbox(docker, { image: config.sandbox.image, runsDir: runsDir(config) });
  await sandbox.check();
  await sandbox.reapOrphans();
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'cpu'),
    activities: createSandboxActivities({ sandbox, defaults: config.sandbox.limits, attachGpus: false }),
    // Cancellation reaches an activity only with a heartbeat's reply: send them often enough
    // that a cancelled run's container is gone within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    maxConcurrentActivityTaskExecutions: config.workers.cpuConcurrency,
  });
}
