import { randomUUID } from 'node:crypto';
import { type Client, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  type Action,
  type Budget,
  type CreateEnvRequest,
  ENV_MESSAGES,
  type EnvState,
  type Observation,
  type StepResult,
  type TaskSummary,
} from '../domain/env';
import type { RewardMode } from '../domain/rewards';
import type { EnvSessionInput } from '../workflows/env-session';
import { EnvError, type EnvService, noEnvironment, OWNER_MEMO, unknownTask } from './env-service';

export interface TemporalEnvOptions {
  client: Client;
  /** `<prefix>-control`, where envSession workflows run */
  controlQueue: string;
  /** the catalog sessions read their task from (passed to the workflow) */
  catalogDir: string;
  /** the catalog's tasks; unset = create() leaves checking the task to the session (rollouts on workers) */
  listTasks?(): Promise<TaskSummary[]>;
  defaults: { budget: Pick<Budget, 'steps' | 'wallTimeS' | 'idleTimeoutS'>; rewardMode: RewardMode };
  /** the most a request may ask for (config `env.max`); above it create() is a bad-request naming the field */
  maxBudget?: Partial<Record<keyof Budget, number>>;
  /** start a new workflow run every this many steps (tests); unset = when Temporal suggests it */
  stepsPerRun?: number;
}

/** The message of a failure, down to its root cause. */
function rootMessage(err: unknown): string {
  let e = err as Error & { cause?: unknown };
  while (e.cause instanceof Error) e = e.cause as Error & { cause?: unknown };
  return e.message;
}

/** "already completed" from the server: the session's workflow has ended. */
const completed = (err: unknown) =>
  /already completed|workflow execution .*(completed|terminated|timed out)/i.test(rootMessage(err));

/** A budget field above its maximum, as the 400 names it. */
function overBudget(
  budget: Partial<Budget> | undefined,
  max: Partial<Record<keyof Budget, number>>,
): EnvError | undefined {
  const over = Object.entries(budget ?? {}).filter(([field, value]) => {
    const limit = max[field as keyof Budget];
    return typeof value === 'number' && limit !== undefined && value > limit;
  });
  if (!over.length) return undefined;
  const named = over.map(
    ([field, value]) => `budget.${field} = ${value} is above the maximum ${max[field as keyof Budget]}`,
  );
  return new EnvError('bad-request', `${named.join('; ')}: ask for at most the maximum (server setting env.max)`);
}

/** The Dojo over the Temporal client: one envSession workflow per environment. */
export function createTemporalEnvService(options: TemporalEnvOptions): EnvService {
  const { client, controlQueue, catalogDir, defaults } = options;

  async function finalState(envId: string): Promise<EnvState> {
    try {
      return await client.workflow.getHandle(envId).result();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new EnvError('not-found', `no environment ${envId}: create one with POST /v1/envs`);
      throw new EnvError('ended', `environment ${envId} failed: ${rootMessage(err)}`);
    }
  }

  /** Why an update found no running session: it never existed, or it has ended. */
  async function notRunning(envId: string): Promise<EnvError> {
    try {
      const { status } = await client.workflow.getHandle(envId).describe();
      return new EnvError(
        'ended',
        `environment ${envId} has ended (${status.name.toLowerCase()}): start a new one with POST /v1/envs`,
      );
    } catch {
      return new EnvError('not-found', `no environment ${envId}: create one with POST /v1/envs`);
    }
  }

  return {
    async listTasks() {
      return (await options.listTasks?.()) ?? [];
    },

    async create(request: CreateEnvRequest, { owner }: { owner?: string } = {}) {
      const tooBig = overBudget(request.budget, options.maxBudget ?? {});
      if (tooBig) throw tooBig;
      const tasks = await options.listTasks?.();
      if (tasks && !tasks.some((t) => t.id === request.taskId)) {
        throw unknownTask(
          request.taskId,
          catalogDir,
          tasks.map((t) => t.id),
        );
      }
      const envId = `env-${request.taskId}-${randomUUID().slice(0, 8)}`;
      const input: EnvSessionInput = {
        taskId: request.taskId,
        catalogDir,
        budget: { ...defaults.budget, ...request.budget },
        rewardMode: request.rewardMode ?? defaults.rewardMode,
        ...(options.stepsPerRun ? { stepsPerRun: options.stepsPerRun } : {}),
      };
      const handle = await client.workflow.start('envSession', {
        taskQueue: controlQueue,
        workflowId: envId,
        args: [input],
        ...(owner ? { memo: { [OWNER_MEMO]: owner } } : {}),
      });
      try {
        const observation = await handle.executeUpdate<Observation, []>(ENV_MESSAGES.observe);
        return { envId, observation };
      } catch (err) {
        // The session could not open (e.g. the task has no prepared data): say why.
        const why = await handle.result().then(
          () => rootMessage(err),
          (failure: unknown) => (failure instanceof WorkflowFailedError ? rootMessage(failure) : rootMessage(err)),
        );
        throw new EnvError('unknown-task', `task "${request.taskId}" cannot be played: ${why}`);
      }
    },

    async step(envId: string, action: Action, { requestId }: { requestId?: string } = {}): Promise<StepResult> {
      const handle = client.workflow.getHandle(envId);
      try {
        return await handle.executeUpdate<StepResult, [unknown]>(action.action, {
          args: [action.params],
          ...(requestId ? { updateId: requestId } : {}),
        });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || completed(err)) throw await notRunning(envId);
        if (err instanceof WorkflowUpdateFailedError) {
          const message = rootMessage(err);
          throw new EnvError(/has ended/.test(message) ? 'ended' : 'bad-request', message);
        }
        throw err;
      }
    },

    async get(envId: string): Promise<EnvState> {
      const handle = client.workflow.getHandle(envId);
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw new EnvError('not-found', `no environment ${envId}: create one with POST /v1/envs`);
        throw err;
      }
      return status === 'RUNNING' ? handle.query<EnvState>(ENV_MESSAGES.state) : finalState(envId);
    },

    async owner(envId: string): Promise<string | undefined> {
      try {
        const description = await client.workflow.getHandle(envId).describe();
        if (description.type !== 'envSession') throw noEnvironment(envId);
        const owner = description.memo?.[OWNER_MEMO];
        return typeof owner === 'string' ? owner : undefined;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw noEnvironment(envId);
        throw err;
      }
    },

    async close(envId: string): Promise<EnvState> {
      const handle = client.workflow.getHandle(envId);
      try {
        await handle.executeUpdate<EnvState, []>(ENV_MESSAGES.close);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError) && !completed(err)) throw err;
      }
      // The workflow stops the sandbox after the close; its result is the final state.
      return finalState(envId);
    },
  };
}
