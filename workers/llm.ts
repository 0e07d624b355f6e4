import { Worker } from '@temporalio/worker';
import { taskQueueName } from '../domain/queues';
import type { WorkerDeps } from './deps';

/** The activities of the llm queue: agent-role and policy calls. The roles arrive with the Forge. */
export const LLM_ACTIVITIES: Record<string, (...args: never[]) => Promise<unknown>> = {};

/**
 * `<prefix>-llm`: agent-role and policy calls, at most `llmConcurrency` at once (the endpoint's
 * rate limit). The SDK refuses a worker with nothing to run, and so does this until roles exist.
 */
export async function createLlmWorker({ connection, config }: WorkerDeps): Promise<Worker> {
  if (Object.keys(LLM_ACTIVITIES).length === 0) {
    throw new Error('the llm queue has no activities yet (agent roles come with the Forge); run control, cpu or gpu workers');
  }
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'llm'),
    activities: LLM_ACTIVITIES,
    maxConcurrentActivityTaskExecutions: config.workers.llmConcurrency,
  });
}
