import { z } from 'zod';
import { REWARD_MODES } from './env';

/** What an RL trainer asks for: K episodes per task, `concurrency` at once. */
export const rolloutInputSchema = z.strictObject({
  tasks: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{1,79}$/, 'a task id (see GET /v1/tasks)')).min(1, 'tasks: name at least one task').max(1000),
  policy: z.enum(['heuristic', 'openai']),
  samplesPerTask: z.number().int().positive().max(1000),
  /** each episode's step budget */
  maxSteps: z.number().int().positive().max(1000).default(20),
  concurrency: z.number().int().positive().max(256).default(8),
  rewardMode: z.enum(REWARD_MODES).default('medal'),
  /** an episode still running after this long is stopped and flagged `timed-out` */
  episodeTimeoutS: z.number().int().positive().default(3600),
  /** the catalog the tasks are read from; unset = the workers' */
  catalogDir: z.string().min(1).optional(),
});
export type RolloutInput = z.input<typeof rolloutInputSchema>;
export type RolloutSpec = z.output<typeof rolloutInputSchema>;

export type EpisodeStatus = 'completed' | 'failed' | 'timed-out';

export interface EpisodeOutcome {
  task: string;
  /** 0-based sample index within its task's group */
  sample: number;
  status: EpisodeStatus;
  /** the best reward of the episode; 0 when it failed or timed out without a valid submission */
  reward: number;
  steps: number;
  envId?: string;
  /** the episode's trajectory file (JSONL) */
  trajectory?: string;
  error?: string;
}

/** One task's group of episodes, as a GRPO-style trainer uses it. */
export interface GroupStats {
  task: string;
  episodes: number;
  mean: number;
  /** population standard deviation */
  std: number;
  /** (reward − mean) / (std + ε), in the group's sample order */
  advantages: number[];
  /** episodes flagged timed-out or failed (counted in the stats with their reward) */
  flagged: number;
}

const EPSILON = 1e-6;

/** Per-task group statistics; episodes that timed out or failed count with their (usually 0) reward. */
export function groupStats(episodes: EpisodeOutcome[]): GroupStats[] {
  const tasks = [...new Set(episodes.map((e) => e.task))];
  return tasks.map((task) => {
    const group = episodes.filter((e) => e.task === task).sort((a, b) => a.sample - b.sample);
    const rewards = group.map((e) => e.reward);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / rewards.length);
    return { task, episodes: group.length, mean, std, advantages: rewards.map((r) => (r - mean) / (std + EPSILON)), flagged: group.filter((e) => e.status !== 'completed').length };
  });
}

export interface RolloutResult {
  workflowId: string;
  episodes: EpisodeOutcome[];
  groups: GroupStats[];
}

export interface RolloutProgress {
  total: number;
  done: number;
  running: number;
}
