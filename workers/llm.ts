import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { heartbeating } from '../activities/heartbeat';
import { createRoleActivities } from '../activities/roles';
import { createSynthRoleActivities } from '../activities/synth-roles';
import { createPolicyActivities } from '../activities/rollouts';
import { createPolicyFactory } from '../agents/policy-for';
import { taskQueueName } from '../domain/queues';
import type { WorkerDeps } from './deps';
import { artifactSync } from './store-sync';

/** `<prefix>-llm`: agent-role and policy calls, at most `llmConcurrency` at once (the endpoint's rate limit). */
export async function createLlmWorker({ connection, config, catalogs }: WorkerDeps): Promise<Worker[]> {
  const synced = await artifactSync(config, catalogs);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'llm'),
    // Every model call heartbeats while it waits (and while its artifacts move), so a lost worker's
    // call is retried elsewhere.
    activities: heartbeating(
      synced({
        ...createRoleActivities({ artifactsDir: config.paths.artifacts, llm: config.llm }),
        ...createSynthRoleActivities({ artifactsDir: config.paths.artifacts, llm: config.llm }),
        ...createPolicyActivities({
          policyFor: createPolicyFactory(config),
          transcriptsDir: join(config.paths.artifacts, 'transcripts'),
        }),
      }),
    ),
    maxConcurrentActivityTaskExecutions: config.workers.llmConcurrency,
  });
  return [worker];
}
