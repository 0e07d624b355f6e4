import type { MetricSpec } from './task';

/**
 * Leaderboard-relative rewards for the Dojo: HumanRank positions (MLE-Dojo) and medal tiers by
 * Kaggle's progression rules as MLE-bench applies them.
 */

export type RewardMode = 'position' | 'raw' | 'medal';
export const MEDALS = ['gold', 'silver', 'bronze', 'above-median', 'none'] as const;
export type Medal = (typeof MEDALS)[number];

export interface MedalThresholds {
  gold: number;
  silver: number;
  bronze: number;
  median: number;
}

/** Scores sorted best first under the metric's direction. */
function bestFirst(scores: number[], metric: Pick<MetricSpec, 'higherIsBetter'>): number[] {
  return [...scores].sort((a, b) => (metric.higherIsBetter ? b - a : a - b));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The scores a submission must reach for each medal: the score at a leaderboard position that
 * depends on the number of teams (kaggle.com/progression, as in MLE-bench), and the median.
 */
export function medalThresholds(scores: number[], metric: Pick<MetricSpec, 'higherIsBetter'>): MedalThresholds {
  const n = scores.length;
  if (n === 0) throw new Error('a leaderboard needs at least one entry to set medal thresholds');
  const ranked = bestFirst(scores, metric);
  const at = (position: number) => ranked[Math.min(Math.max(1, position), n) - 1]!;
  const share = (fraction: number) => Math.max(1, Math.floor(n * fraction));
  let positions: [number, number, number];
  if (n < 100) positions = [share(0.1), share(0.2), share(0.4)];
  else if (n < 250) positions = [10, share(0.2), share(0.4)];
  else if (n < 1000) positions = [10 + Math.floor(n * 0.002), 50, 100];
  else positions = [10 + Math.floor(n * 0.002), share(0.05), share(0.1)];
  return { gold: at(positions[0]), silver: at(positions[1]), bronze: at(positions[2]), median: median(scores) };
}

/**
 * Ten leaderboard scores whose medalThresholds are exactly `t` (in either metric direction): gold,
 * silver, bronze twice, median twice, then four entries at `floor` (the worst score to count from,
 * e.g. the sample submission's). How a task's own thresholds become a leaderboard.
 */
export function thresholdLadder(t: MedalThresholds, floor: number): number[] {
  // the direction shows in the thresholds; a floor above the median would move the median
  const worst = t.gold >= t.median ? Math.min(floor, t.median) : Math.max(floor, t.median);
  return [t.gold, t.silver, t.bronze, t.bronze, t.median, t.median, worst, worst, worst, worst];
}

const reaches = (score: number, threshold: number, metric: Pick<MetricSpec, 'higherIsBetter'>) =>
  metric.higherIsBetter ? score >= threshold : score <= threshold;

export function medalOf(score: number, t: MedalThresholds, metric: Pick<MetricSpec, 'higherIsBetter'>): Medal {
  if (reaches(score, t.gold, metric)) return 'gold';
  if (reaches(score, t.silver, metric)) return 'silver';
  if (reaches(score, t.bronze, metric)) return 'bronze';
  return (metric.higherIsBetter ? score > t.median : score < t.median) ? 'above-median' : 'none';
}

/** HumanRank: 1 − p/N, where p entries of the N on the leaderboard score strictly better. */
export function humanRank(score: number, scores: number[], metric: Pick<MetricSpec, 'higherIsBetter'>): number {
  if (scores.length === 0) throw new Error('HumanRank needs a leaderboard with at least one entry');
  const better = scores.filter((s) => (metric.higherIsBetter ? s > score : s < score)).length;
  return 1 - better / scores.length;
}

/**
 * Dense medal reward for RL, in [0, 1]: the tier reached (none, above median, bronze, silver,
 * gold as 0..4) plus the fraction of the way to the next threshold, divided by 4. Below the median
 * the fraction runs from the leaderboard's worst score.
 */
export function denseMedalReward(score: number, scores: number[], metric: Pick<MetricSpec, 'higherIsBetter'>): number {
  const t = medalThresholds(scores, metric);
  const worst = bestFirst(scores, metric).at(-1)!;
  const ladder = [worst, t.median, t.bronze, t.silver, t.gold];
  const tier = ['none', 'above-median', 'bronze', 'silver', 'gold'].indexOf(medalOf(score, t, metric));
  if (tier === 4) return 1;
  const from = ladder[tier]!;
  const to = ladder[tier + 1]!;
  const fraction = to === from ? 0 : Math.min(1, Math.max(0, (score - from) / (to - from)));
  return (tier + fraction) / 4;
}

/**
 * The reward of a step under the session's mode, from its scores on the task's leaderboards
 * (position: HumanRank averaged over them; medal: dense, on the first non-empty one). A step
 * without a valid submission has no scores and earns 0 in every mode.
 */
export function rewardOf(
  mode: RewardMode,
  scores: { raw: number; position: number } | undefined,
  leaderboards: { scores: number[] }[],
  metric: Pick<MetricSpec, 'higherIsBetter'>,
): number {
  if (!scores) return 0;
  if (mode === 'raw') return scores.raw;
  if (mode === 'position') return scores.position;
  const board = leaderboards.find((b) => b.scores.length > 0);
  return board ? denseMedalReward(scores.raw, board.scores, metric) : 0;
}
