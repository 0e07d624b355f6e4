import { z } from 'zod';
import { REWARD_MODES } from './env';
import { failureFieldsSchema } from './failures';
import { policySpecSchema } from './policy-spec';

/** What an RL trainer asks for: K episodes per task, `concurrency` at once. */
export const rolloutInputSchema = z.strictObject({
  tasks: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]{1,79}$/, 'a task id (see GET /v1/tasks)'))
    .min(1, 'tasks: name at least one task')
    .max(1000),
  /** `"heuristic"`, `"openai"` (the workers' endpoint), or an object naming the endpoint, model and sampling */
  policy: policySpecSchema,
  samplesPerTask: z.number().int().positive().max(1000),
  /** each episode's step budget */
  maxSteps: z.number().int().positive().max(1000).default(20),
  concurrency: z.number().int().positive().max(256).default(8),
  rewardMode: z.enum(REWARD_MODES).default('medal'),
  /** an episode still running after this long is stopped and flagged `timed-out` */
  episodeTimeoutS: z.number().int().positive().default(3600),
  /** the heuristic policy's seed: each sample draws its own variant of domain/policy-space.ts (unset = the baseline) */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31)
    .optional(),
  /** the heuristic policy plays the fidelity ladder: sample i is rung i (anvil fidelity) */
  fidelity: z.boolean().optional(),
  /** the catalog the tasks are read from; unset = the workers' */
  catalogDir: z.string().min(1).optional(),
});
export type RolloutInput = z.input<typeof rolloutInputSchema>;

/** What an HTTP client may send: no catalogDir (the gateway's catalog is a server setting). */
export const rolloutRequestSchema = rolloutInputSchema.omit({ catalogDir: true });
export type RolloutSpec = z.output<typeof rolloutInputSchema>;

export const EPISODE_STATUSES = ['completed', 'failed', 'timed-out'] as const;
export type EpisodeStatus = (typeof EPISODE_STATUSES)[number];

export const episodeOutcomeSchema = z.object({
  task: z.string(),
  sample: z.number().int().describe("0-based sample index within its task's group"),
  status: z.enum(EPISODE_STATUSES),
  reward: z
    .number()
    .describe(
      "the final submission's reward on the private test rows; 0 when it failed or timed out without a valid submission",
    ),
  steps: z.number().int(),
  finalStep: z
    .number()
    .int()
    .optional()
    .describe('the step whose submission earned the reward; absent when none scored'),
  envId: z.string().optional(),
  trajectory: z
    .string()
    .optional()
    .describe("the episode's trajectory: a JSONL file, or store:trajectories/<env>/ in an S3 store"),
  transcript: z
    .string()
    .optional()
    .describe("the folder of the model's transcript (turn-<n>.json per policy turn); openai policies only"),
  error: z.string().optional(),
});
export type EpisodeOutcome = z.infer<typeof episodeOutcomeSchema>;

/** One task's group of episodes, as a GRPO-style trainer uses it. */
export const groupStatsSchema = z.object({
  task: z.string(),
  episodes: z.number().int(),
  mean: z.number(),
  std: z.number().describe('population standard deviation'),
  advantages: z.array(z.number()).describe("(reward − mean) / (std + ε), in the group's sample order"),
  flagged: z.number().int().describe('episodes flagged timed-out or failed (counted in the stats with their reward)'),
});
export type GroupStats = z.infer<typeof groupStatsSchema>;

const EPSILON = 1e-6;

/** Per-task group statistics; episodes that timed out or failed count with their (usually 0) reward. */
export function groupStats(episodes: EpisodeOutcome[]): GroupStats[] {
  const tasks = [...new Set(episodes.map((e) => e.task))];
  return tasks.map((task) => {
    const group = episodes.filter((e) => e.task === task).sort((a, b) => a.sample - b.sample);
    const rewards = group.map((e) => e.reward);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / rewards.length);
    return {
      task,
      episodes: group.length,
      mean,
      std,
      advantages: rewards.map((r) => (r - mean) / (std + EPSILON)),
      flagged: group.filter((e) => e.status !== 'completed').length,
    };
  });
}

export const rolloutResultSchema = z.object({
  workflowId: z.string(),
  episodes: z.array(episodeOutcomeSchema),
  groups: z.array(groupStatsSchema),
});
export type RolloutResult = z.infer<typeof rolloutResultSchema>;

export const rolloutProgressSchema = z.object({
  total: z.number().int(),
  done: z.number().int(),
  running: z.number().int(),
});
export type RolloutProgress = z.infer<typeof rolloutProgressSchema>;

/** A batch as `GET /v1/rollouts/:id` shows it: its progress while it runs, then its result or its error. */
export const rolloutStatusSchema = z.discriminatedUnion('status', [
  z.object({ id: z.string(), status: z.literal('running'), progress: rolloutProgressSchema }),
  z.object({ id: z.string(), status: z.literal('completed'), result: rolloutResultSchema }),
  z.object({ id: z.string(), status: z.literal('failed'), error: z.string(), ...failureFieldsSchema.shape }),
]);
export type RolloutStatus = z.infer<typeof rolloutStatusSchema>;
