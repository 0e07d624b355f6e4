import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { describeIssues } from '../domain/env';
import { endpointRefusal, policyOf } from '../domain/policy-spec';
import {
  type RolloutInput,
  type RolloutProgress,
  type RolloutResult,
  rolloutInputSchema,
  type RolloutStatus,
} from '../domain/rollouts';
import { EnvError } from './env-service';
import { describeFailure } from './failures';

export interface RolloutService {
  /** checks the input and starts a rolloutBatch workflow; returns its id at once */
  start(input: unknown): Promise<{ id: string }>;
  get(id: string): Promise<RolloutStatus>;
  /** start and wait for the result */
  run(input: RolloutInput): Promise<RolloutResult>;
}

/**
 * How an RL trainer triggers rollouts from TypeScript (the gateway's POST /v1/rollouts is a thin
 * layer over this): a rolloutBatch workflow on the control queue.
 */
export function createRolloutService({
  client,
  controlQueue,
  catalogDir,
  endpoints,
}: {
  client: Client;
  controlQueue: string;
  catalogDir?: string;
  /** the llm workers' endpoint and allow-list (config llm.baseUrl, llm.endpoints): others are refused here */
  endpoints?: { defaultUrl: string; allowed: readonly string[] };
}): RolloutService {
  async function start(input: unknown): Promise<{ id: string }> {
    const parsed = rolloutInputSchema.safeParse(input);
    if (!parsed.success)
      throw new EnvError(
        'bad-request',
        `${describeIssues(parsed.error)}; send {tasks: [task ids], policy: "heuristic"|"openai"|{kind, …}, samplesPerTask, maxSteps?, concurrency?, rewardMode?}`,
      );
    const refusal = endpoints && endpointRefusal(policyOf(parsed.data.policy), endpoints);
    if (refusal) throw new EnvError('bad-request', refusal);
    const id = `rollout-${randomUUID().slice(0, 8)}`;
    await client.workflow.start('rolloutBatch', {
      taskQueue: controlQueue,
      workflowId: id,
      args: [{ ...(catalogDir ? { catalogDir } : {}), ...parsed.data }],
    });
    return { id };
  }
  return {
    start,
    async get(id) {
      const handle = client.workflow.getHandle(id);
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw new EnvError('not-found', `no rollout ${id}: start one with POST /v1/rollouts`);
        throw err;
      }
      if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW')
        return { id, status: 'running', progress: await handle.query<RolloutProgress>('rolloutProgress') };
      try {
        return { id, status: 'completed', result: await handle.result() };
      } catch (err) {
        const { message, ...failure } = describeFailure(err, { workflowId: id });
        return { id, status: 'failed', error: message, ...failure };
      }
    },
    async run(input) {
      const { id } = await start(input);
      return client.workflow.getHandle(id).result();
    },
  };
}
