import { Worker } from '@temporalio/worker';
import { createRoleActivities } from '../activities/roles';
import { taskQueueName } from '../domain/queues';
import type { WorkerDeps } from './deps';

/** `<prefix>-llm`: agent-role calls, at most `llmConcurrency` at once (the endpoint's rate limit). */
export async function createLlmWorker({ connection, config }: WorkerDeps): Promise<Worker[]> {
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'llm'),
    activities: createRoleActivities({ artifactsDir: config.paths.artifacts, llm: config.llm }),
    maxConcurrentActivityTaskExecutions: config.workers.llmConcurrency,
  });
  return [worker];
}
