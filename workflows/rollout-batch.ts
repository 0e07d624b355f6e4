import {
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  patched,
  setHandler,
  startChild,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type EpisodeOutcome,
  groupStats,
  type RolloutInput,
  type RolloutProgress,
  type RolloutResult,
  rolloutInputSchema,
} from '../domain/rollouts';
import { describeIssues } from '../domain/env';
import { episodeVariant } from '../domain/policy-space';
import { policyOf } from '../domain/policy-spec';
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { OWNER_MEMO } from '../domain/search-attributes';
import { policyCheckActivities } from './activity-proxies';
import { episode } from './episode';

export const rolloutProgressQuery = defineQuery<RolloutProgress>('rolloutProgress');

/** Episodes finished per run before the batch continues as new (its history stays small). */
const EPISODES_PER_RUN = 200;

async function checkPolicy(policy: RolloutInput['policy']): Promise<void> {
  const { checkPolicy } = policyCheckActivities();
  try {
    await checkPolicy({ policy });
  } catch (err) {
    const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
    throw ApplicationFailure.nonRetryable(`bad rollout policy: ${cause}`, 'BadRolloutInput');
  }
}

interface Carried {
  done: EpisodeOutcome[];
  /** the batch's first workflow id: episode ids stay the same across runs */
  batchId: string;
}

/**
 * A batch of agent episodes for RL: `samplesPerTask` child `episode` workflows per task, at most
 * `concurrency` at once; every episode ends in the result, flagged when it timed out or failed.
 */
export async function rolloutBatch(input: RolloutInput, carried?: Carried): Promise<RolloutResult> {
  const parsed = rolloutInputSchema.safeParse(input);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(`bad rollout input: ${describeIssues(parsed.error)}`, 'BadRolloutInput');
  const spec = parsed.data;
  const batchId = carried?.batchId ?? workflowInfo().workflowId;
  // The key that started the batch (its memo; continue-as-new keeps it) owns its episodes' sessions.
  const owner = workflowInfo().memo?.[OWNER_MEMO];
  const done: EpisodeOutcome[] = [...(carried?.done ?? [])];
  const all = spec.tasks.flatMap((task) =>
    Array.from({ length: spec.samplesPerTask }, (_, sample) => ({ task, sample })),
  );
  const todo = all.filter((e) => !done.some((d) => d.task === e.task && d.sample === e.sample));
  let running = 0;
  let finishedThisRun = 0;
  setHandler(rolloutProgressQuery, () => ({ total: all.length, done: done.length, running }));
  // An endpoint outside the llm workers' allow-list, or an unknown key, fails the batch before any episode.
  if (!carried && patched('batch-policy-check')) await checkPolicy(spec.policy);

  const policy = policyOf(spec.policy);
  const variantOf = (sample: number) => {
    // The heuristic's seed: the batch's, else the one in its policy object.
    const seed = spec.seed ?? (policy.kind === 'heuristic' ? policy.seed : undefined);
    const variant = policy.kind === 'heuristic' ? episodeVariant(sample, { ...spec, seed }) : undefined;
    return variant ? { variant } : {};
  };

  const runOne = async ({ task, sample }: { task: string; sample: number }) => {
    const base = { task, sample, steps: 0, reward: 0 };
    try {
      const child = await startChild(episode, {
        workflowId: `${batchId}--${task}--${sample}`,
        args: [
          {
            task,
            sample,
            policy: spec.policy,
            maxSteps: spec.maxSteps,
            rewardMode: spec.rewardMode,
            ...variantOf(sample),
            ...(spec.catalogDir ? { catalogDir: spec.catalogDir } : {}),
            ...(typeof owner === 'string' ? { owner } : {}),
          },
        ],
        workflowExecutionTimeout: `${spec.episodeTimeoutS} seconds`,
      });
      done.push(await child.result());
    } catch (err) {
      const timedOut = err instanceof ChildWorkflowFailure && err.cause instanceof TimeoutFailure;
      done.push({
        ...base,
        status: timedOut ? 'timed-out' : 'failed',
        error: err instanceof ChildWorkflowFailure ? (err.cause?.message ?? err.message) : (err as Error).message,
      });
    } finally {
      running -= 1;
      finishedThisRun += 1;
    }
  };

  const pending: Promise<void>[] = [];
  for (const next of todo) {
    await condition(() => running < spec.concurrency);
    if (finishedThisRun >= EPISODES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(() => running === 0);
      await continueAsNew<typeof rolloutBatch>(input, { done, batchId });
    }
    running += 1;
    pending.push(runOne(next));
  }
  await Promise.all(pending);
  const episodes = [...done].sort((a, b) => a.task.localeCompare(b.task) || a.sample - b.sample);
  return { workflowId: batchId, episodes, groups: groupStats(episodes) };
}
