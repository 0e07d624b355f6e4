import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Policy } from '../agents/policy';
import type { EnvService } from '../client';
import type { PolicyVariant } from '../domain/policy-space';
import type { Action, CreateEnvRequest, EnvState, Observation, PolicyTurn, StepResult } from '../domain/env';

/** Heartbeats every few seconds while `work` runs: a lost worker is noticed, a long step is not. */
async function beating<T>(work: Promise<T>): Promise<T> {
  const timer = setInterval(() => Context.current().heartbeat(), 5000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** An EnvError the episode cannot recover from (unknown task, ended session) is not retried. */
function final(err: unknown): never {
  const e = err as Error & { kind?: string };
  if (e.name === 'EnvError' && e.kind !== undefined) throw ApplicationFailure.nonRetryable(e.message, `Env:${e.kind}`);
  throw err;
}

/**
 * Control-queue activities of an episode: it acts on a Dojo session as any agent would, through
 * the Temporal client. Steps carry a request id, so a retried step is never run twice.
 */
export function createEpisodeEnvActivities({ envsFor }: { envsFor: (catalogDir?: string) => EnvService }) {
  const envs = envsFor();
  return {
    async openEnv({
      request,
      catalogDir,
    }: {
      request: CreateEnvRequest;
      catalogDir?: string;
    }): Promise<{ envId: string; observation: Observation }> {
      return envsFor(catalogDir).create(request).catch(final);
    },
    async stepEnv({
      envId,
      action,
      requestId,
    }: {
      envId: string;
      action: Action;
      requestId: string;
    }): Promise<StepResult> {
      return beating(envs.step(envId, action, { requestId })).catch(final);
    },
    async closeEnv({ envId }: { envId: string }): Promise<EnvState> {
      return envs.close(envId).catch(final);
    },
  };
}

/** LLM-queue activity: the policy's next action (heuristic or an OpenAI-compatible model). */
export function createPolicyActivities({
  policies,
}: {
  policies: Record<string, (options: { variant?: PolicyVariant }) => Policy>;
}) {
  return {
    async policyNext({
      policy,
      turns,
      variant,
    }: {
      policy: string;
      turns: PolicyTurn[];
      variant?: PolicyVariant;
    }): Promise<Action | null> {
      const make = policies[policy];
      if (!make)
        throw ApplicationFailure.nonRetryable(
          `no policy "${policy}": one of ${Object.keys(policies).join(', ')}`,
          'UnknownPolicy',
        );
      return make({ variant }).next(turns);
    },
  };
}

export type EpisodeEnvActivities = ReturnType<typeof createEpisodeEnvActivities>;
export type PolicyActivities = ReturnType<typeof createPolicyActivities>;
