import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { EpisodeEnvActivities } from '../activities/rollouts';
import type { Action, PolicyTurn } from '../domain/env';
import type { PolicySpecInput } from '../domain/policy-spec';
import type { RewardMode } from '../domain/rewards';
import type { PolicyVariant } from '../domain/policy-space';
import type { EpisodeOutcome } from '../domain/rollouts';
import { policyActivities } from './activity-proxies';

export interface EpisodeInput {
  task: string;
  sample: number;
  /** `"heuristic"`, `"openai"`, or a policy spec object (domain/policy-spec.ts) */
  policy: PolicySpecInput;
  maxSteps: number;
  rewardMode: RewardMode;
  /** the heuristic policy's variant (a seeded draw, or a fidelity rung); unset = its baseline */
  variant?: PolicyVariant;
  catalogDir?: string;
  /** the API key that started the rollout: the episode's session is its too */
  owner?: string;
}

/** The turns so far, the opening observation first (`anvil env run` prints them as they come). */
export const episodeTurnsQuery = defineQuery<PolicyTurn[]>('episodeTurns');

/** Env actions wait for a whole step (run + grading): long, but heartbeating. */
const env = proxyActivities<EpisodeEnvActivities>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    maximumAttempts: 5,
    initialInterval: '1 second',
    nonRetryableErrorTypes: ['Env:unknown-task', 'Env:not-found', 'Env:ended', 'Env:bad-request'],
  },
});

const messageOf = (err: unknown) =>
  err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
/** The transcript folder a failed policy turn names (it wrote the refused replies before giving up). */
const transcriptOf = (err: unknown): string | undefined => {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? cause.details : undefined;
  return (details?.[0] as { transcript?: string } | undefined)?.transcript;
};

/**
 * One agent episode: the policy (on the LLM queue) acts on a Dojo session (a workflow of its own,
 * which records the trajectory) until it stops or the session's budget ends.
 */
export async function episode(input: EpisodeInput): Promise<EpisodeOutcome> {
  const { workflowId } = workflowInfo();
  const base = { task: input.task, sample: input.sample };
  const turns: PolicyTurn[] = [];
  setHandler(episodeTurnsQuery, () => turns);
  let opened;
  try {
    opened = await env.openEnv({
      request: { taskId: input.task, budget: { steps: input.maxSteps }, rewardMode: input.rewardMode },
      catalogDir: input.catalogDir,
      ...(input.owner ? { owner: input.owner } : {}),
    });
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `episode on ${input.task} could not start: ${messageOf(err)}`,
      'EpisodeStartFailed',
    );
  }
  const { envId } = opened;
  turns.push({ observation: opened.observation, reward: 0, done: opened.observation.done });
  const policy = policyActivities();
  // policyTurn also writes the model's transcript and says where; older histories ran policyNext.
  const withTranscripts = patched('policy-turn-transcripts');
  let transcript: string | undefined;
  let error: string | undefined;
  try {
    for (let i = 0; !turns.at(-1)!.done; i++) {
      let action: Action | null;
      const variant = input.variant ? { variant: input.variant } : {};
      if (withTranscripts) {
        const next = await policy.policyTurn({
          policy: input.policy,
          turns,
          episodeId: workflowId,
          turn: i,
          sample: input.sample,
          ...variant,
        });
        action = next.action;
        transcript = next.transcript ?? transcript;
      } else {
        action = await policy.policyNext({ policy: input.policy, turns, ...variant });
      }
      if (!action) break;
      // The request id makes a retried step (after a lost worker) the same update, never a second step.
      const result = await env.stepEnv({ envId, action, requestId: `${workflowId}/${i}` });
      turns.push({ ...result, action });
    }
  } catch (err) {
    error = messageOf(err);
    transcript = transcriptOf(err) ?? transcript;
  }
  const state = await env.closeEnv({ envId });
  return {
    ...base,
    status: error ? 'failed' : 'completed',
    // The final submission's private-rows reward, revealed at the close (sessions before the split: the best step's).
    reward: state.final ? state.final.reward : Math.max(0, ...turns.map((t) => t.reward)),
    steps: state.stepsUsed,
    ...(state.final ? { finalStep: state.final.step } : {}),
    envId,
    trajectory: state.trajectory,
    ...(transcript ? { transcript } : {}),
    ...(error ? { error } : {}),
  };
}
