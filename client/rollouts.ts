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
import { EnvError, OWNER_MEMO } from './env-service';
import { describeFailure } from './failures';

export interface RolloutService {
  /** checks the input and starts a rolloutBatch workflow; returns its id at once. `owner`: see owner() */
  start(input: unknown, options?: { owner?: string }): Promise<{ id: string }>;
  /** the API key that started it (undefined: none recorded); EnvError not-found unless `id` is a rollout */
  owner(id: string): Promise<string | undefined>;
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
  const noRollout = (id: string) => new EnvError('not-found', `no rollout ${id}: start one with POST /v1/rollouts`);
  async function start(input: unknown, { owner }: { owner?: string } = {}): Promise<{ id: string }> {
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
      // The service's catalog, when it has one, wins over one in the input.
      args: [{ ...parsed.data, ...(catalogDir ? { catalogDir } : {}) }],
      ...(owner ? { memo: { [OWNER_MEMO]: owner } } : {}),
    });
    return { id };
  }
  return {
    start,
    async owner(id) {
      try {
        const description = await client.workflow.getHandle(id).describe();
        if (description.type !== 'rolloutBatch') throw noRollout(id);
        const owner = description.memo?.[OWNER_MEMO];
        return typeof owner === 'string' ? owner : undefined;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw noRollout(id);
        throw err;
      }
    },
    async get(id) {
      const handle = client.workflow.getHandle(id);
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw noRollout(id);
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
