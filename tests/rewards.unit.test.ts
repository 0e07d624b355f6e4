import { describe, expect, it } from 'vitest';
import { denseMedalReward, humanRank, medalOf, medalThresholds, rewardOf } from '../domain/rewards';

const HIGH = { higherIsBetter: true };
const LOW = { higherIsBetter: false };
/** n distinct scores 1..n, in a shuffled order (the functions must not rely on order) */
const board = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % n) + 1);

describe('medal thresholds (kaggle.com/progression, as MLE-bench applies them)', () => {
  it.each([
    // teams, gold position, silver position, bronze position (1 = best)
    [10, 1, 2, 4],
    [99, 9, 19, 39],
    [150, 10, 30, 60],
    [500, 11, 50, 100],
    [2000, 14, 100, 200],
  ])('with %i teams: gold at position %i, silver at %i, bronze at %i', (n, gold, silver, bronze) => {
    const t = medalThresholds(board(n), HIGH); // higher is better: position p holds score n + 1 - p
    expect(t).toEqual({ gold: n + 1 - gold, silver: n + 1 - silver, bronze: n + 1 - bronze, median: (n + 1) / 2 });
    const lower = medalThresholds(board(n), LOW); // lower is better: position p holds score p
    expect([lower.gold, lower.silver, lower.bronze]).toEqual([gold, silver, bronze]);
  });

  it('awards the medal whose threshold a score reaches (ties count), else above-median or none', () => {
    const t = medalThresholds(board(10), HIGH); // gold 10, silver 9, bronze 7, median 5.5
    expect([10, 9.5, 9, 7, 6, 5.5, 1].map((s) => medalOf(s, t, HIGH))).toEqual([
      'gold',
      'silver',
      'silver',
      'bronze',
      'above-median',
      'none',
      'none',
    ]);
    const low = medalThresholds(board(10), LOW); // gold 1, silver 2, bronze 4
    expect([1, 2, 4, 5, 6].map((s) => medalOf(s, low, LOW))).toEqual([
      'gold',
      'silver',
      'bronze',
      'above-median',
      'none',
    ]);
  });

  it('refuses an empty leaderboard', () => {
    expect(() => medalThresholds([], HIGH)).toThrow(/at least one entry/);
  });
});

describe('HumanRank and rewards', () => {
  it('is 1 − p/N with p the entries strictly better', () => {
    const scores = [0.9, 0.8, 0.8, 0.7, 0.5];
    expect(humanRank(0.95, scores, HIGH)).toBe(1);
    expect(humanRank(0.8, scores, HIGH)).toBeCloseTo(1 - 1 / 5);
    expect(humanRank(0.75, scores, HIGH)).toBeCloseTo(1 - 3 / 5);
    expect(humanRank(0.1, scores, HIGH)).toBe(0);
    expect(humanRank(0.6, scores, LOW)).toBeCloseTo(1 - 1 / 5); // only 0.5 is better when lower wins
  });

  it('gives a dense medal reward that grows with the score, 1 at gold, and 0 for an invalid submission', () => {
    const scores = board(40);
    const rewards = Array.from({ length: 41 }, (_, s) => denseMedalReward(s, scores, HIGH));
    for (let i = 1; i < rewards.length; i++) expect(rewards[i]!).toBeGreaterThanOrEqual(rewards[i - 1]!);
    expect(rewards[40]).toBe(1);
    expect(rewards[1]).toBe(0);
    const t = medalThresholds(scores, HIGH);
    expect(denseMedalReward(t.bronze, scores, HIGH)).toBe(0.5); // exactly at bronze: tier 2 of 4
    expect(rewardOf('medal', undefined, [{ scores }], HIGH)).toBe(0);
  });

  it('rewards a step by its mode: the raw score, its position, or the dense medal reward on the first board', () => {
    const scores = board(40);
    const bronze = medalThresholds(scores, HIGH).bronze;
    const graded = { raw: bronze, position: 0.3 };
    expect(rewardOf('raw', graded, [{ scores }], HIGH)).toBe(bronze);
    expect(rewardOf('position', graded, [{ scores }], HIGH)).toBe(0.3); // the position as scored, not recomputed
    expect(rewardOf('medal', graded, [{ scores: [] }, { scores }], HIGH)).toBe(0.5);
    expect(rewardOf('medal', graded, [{ scores: [] }], HIGH)).toBe(0); // no board to place it on
    for (const mode of ['raw', 'position', 'medal'] as const) {
      expect(rewardOf(mode, undefined, [{ scores }], HIGH)).toBe(0);
    }
  });
});
