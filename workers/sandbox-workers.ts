import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createEnvSandboxActivities } from '../activities/env/sandbox';
import { createSandboxActivities } from '../activities/sandbox';
import { createSynthSandboxActivities } from '../activities/synth-sandbox';
import { createVerificationActivities } from '../activities/verification';
import { hostQueue, taskQueueName } from '../domain/queues';
import { WarmDockerSandbox } from '../sandbox/warm';
import { readySandbox, scratchDir, type WorkerDeps } from './deps';

/**
 * The two workers of a sandbox host: one on the shared `<prefix>-cpu|gpu` queue (one-shot runs,
 * verification, placing Dojo sessions), one on this host's own queue (the steps of the sessions
 * whose warm containers live here).
 */
export async function createSandboxWorkers(deps: WorkerDeps, kind: 'cpu' | 'gpu', { gpus, concurrency }: { gpus: number; concurrency: number }): Promise<Worker[]> {
  const { connection, config, docker } = deps;
  const sandbox = await readySandbox(deps);
  const runsDir = join(config.paths.artifacts, 'runs');
  const ownQueue = hostQueue(config.taskQueuePrefix, kind, config.workers.hostId ?? hostname());
  const env = createEnvSandboxActivities({
    sandbox,
    warm: new WarmDockerSandbox(docker, { image: config.sandbox.image, runsDir }),
    sessionsDir: join(config.paths.artifacts, 'sessions'),
    scratchDir: scratchDir(config),
    hostQueue: ownQueue,
  });
  const common = {
    connection,
    namespace: config.temporal.namespace,
    // Cancellation reaches an activity only with a heartbeat's reply: send them often enough
    // that a cancelled run's container is gone within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
  } as const;
  return Promise.all([
    Worker.create({
      ...common,
      taskQueue: taskQueueName(config.taskQueuePrefix, kind),
      activities: {
        ...createSandboxActivities({ sandbox, defaults: config.sandbox.limits, attachGpus: gpus > 0 }),
        ...createVerificationActivities({ sandbox, scratchDir: scratchDir(config) }),
        ...createSynthSandboxActivities({ sandbox, scratchDir: scratchDir(config) }),
        placeSession: env.placeSession,
      },
      maxConcurrentActivityTaskExecutions: concurrency,
    }),
    Worker.create({
      ...common,
      taskQueue: ownQueue,
      activities: { runStep: env.runStep, resetSession: env.resetSession, stopSession: env.stopSession },
      maxConcurrentActivityTaskExecutions: kind === 'gpu' ? concurrency : config.workers.sessionConcurrency,
    }),
  ]);
}
