import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Policy } from '../agents/policy';
import type { PolicyOptions, TranscriptSink } from '../agents/policy-for';
import type { EnvService } from '../client';
import type { PolicyVariant } from '../domain/policy-space';
import type { Action, CreateEnvRequest, EnvState, Observation, PolicyTurn, StepResult } from '../domain/env';
import { policyOf, type PolicySpec, type PolicySpecInput } from '../domain/policy-spec';
import { transcriptTurnFile } from '../domain/transcript';

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
      owner,
    }: {
      request: CreateEnvRequest;
      catalogDir?: string;
      /** the API key that started the rollout, recorded as the session's owner */
      owner?: string;
    }): Promise<{ envId: string; observation: Observation }> {
      return envsFor(catalogDir)
        .create(request, owner ? { owner } : {})
        .catch(final);
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

/**
 * LLM-queue activities: the policy's next action (heuristic or an OpenAI-compatible model).
 * `policyTurn` also keeps the model's side of the turn (prompt, every reply, tokens) as
 * `<transcriptsDir>/<episodeId>/turn-<n>.json`, rewritten whole when the activity is retried.
 */
export function createPolicyActivities({
  policyFor,
  transcriptsDir,
}: {
  policyFor: (spec: PolicySpec, options?: PolicyOptions) => Policy;
  transcriptsDir: string;
}) {
  const make = (policy: PolicySpecInput, options?: PolicyOptions) => {
    if (typeof policy === 'string' && policy !== 'heuristic' && policy !== 'openai')
      throw ApplicationFailure.nonRetryable(`no policy "${policy}": one of heuristic, openai`, 'UnknownPolicy');
    return policyFor(policyOf(policy), options);
  };
  return {
    /** Refuses a policy this worker may not play (endpoint not allowed, unknown key) before a batch starts. */
    async checkPolicy({ policy }: { policy: PolicySpecInput }): Promise<void> {
      make(policy);
    },
    /** histories before the `policy-turn-transcripts` patch */
    async policyNext({
      policy,
      turns,
      variant,
    }: {
      policy: PolicySpecInput;
      turns: PolicyTurn[];
      variant?: PolicyVariant;
    }): Promise<Action | null> {
      return make(policy, { variant }).next(turns);
    },
    async policyTurn({
      policy,
      turns,
      episodeId,
      turn,
      variant,
      sample,
    }: {
      policy: PolicySpecInput;
      turns: PolicyTurn[];
      episodeId: string;
      turn: number;
      variant?: PolicyVariant;
      /** the episode's sample in its group (unset in histories before it was passed: seed as given) */
      sample?: number;
    }): Promise<{ action: Action | null; transcript?: string }> {
      const dir = join(transcriptsDir, episodeId.replace(/[^A-Za-z0-9_.-]/g, '_'));
      let written = false;
      const sink: TranscriptSink = async (record) => {
        await mkdir(dir, { recursive: true });
        const file = join(dir, transcriptTurnFile(turn));
        await writeFile(`${file}.tmp`, JSON.stringify({ turn, ...record }));
        await rename(`${file}.tmp`, file);
        written = true;
      };
      try {
        const action = await make(policy, { transcript: sink, variant, sample }).next(turns);
        return { action, ...(written ? { transcript: dir } : {}) };
      } catch (err) {
        if (!written) throw err;
        // a turn whose replies were all refused is on disk too: the failure says where (the episode keeps it)
        const failure = err instanceof ApplicationFailure ? err : undefined;
        throw ApplicationFailure.create({
          message: (err as Error).message,
          type: failure?.type ?? (err as Error).name,
          nonRetryable: failure?.nonRetryable ?? false,
          nextRetryDelay: failure?.nextRetryDelay ?? undefined,
          details: [{ transcript: dir }],
        });
      }
    },
  };
}

export type EpisodeEnvActivities = ReturnType<typeof createEpisodeEnvActivities>;
export type PolicyActivities = ReturnType<typeof createPolicyActivities>;
