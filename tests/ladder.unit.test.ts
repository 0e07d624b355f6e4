import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { infoOf } from '../domain/env-info';
import {
  LADDER_WINDOW,
  ladderCheck,
  ladderLanes,
  ladderRungs,
  MIN_VALID_RUNGS,
  rungsFor,
  textLadderRungs,
  offBelowTrivial,
  rungEntry,
  type RungResult,
} from '../domain/ladder';
import { humanRank, medalThresholds, rewardOf } from '../domain/rewards';
import { TASK_TYPES } from '../domain/task';
import { CHECKS } from '../domain/verification';
import { leaderboardsOf, parseLeaderboard, parseLeaderboards, recordReferenceScores } from '../package/leaderboard';

const HIGH = { higherIsBetter: true };
const LOW = { higherIsBetter: false };

describe('the reference ladder’s rung table', () => {
  it.each(['binary-classification', 'multiclass-classification', 'regression'] as const)(
    'has at least 24 distinct, file-safe rungs for %s, from the prior up',
    (taskType) => {
      const rungs = ladderRungs(taskType);
      expect(rungs.length).toBeGreaterThanOrEqual(24);
      expect(new Set(rungs.map((r) => r.name)).size).toBe(rungs.length);
      for (const r of rungs) expect(r.name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(rungs[0]!.model).toBe('prior');
      const families = new Set(rungs.map((r) => r.model));
      for (const model of ['linear', 'knn', 'tree', 'forest', 'boosting', 'blend'] as const)
        expect(families.has(model), model).toBe(true);
      // kNN at several k, trees at several depths, several train fractions and feature subsets
      expect(new Set(rungs.filter((r) => r.model === 'knn').map((r) => r.params.k)).size).toBeGreaterThanOrEqual(3);
      expect(new Set(rungs.filter((r) => r.model === 'tree').map((r) => r.params.depth)).size).toBeGreaterThanOrEqual(
        3,
      );
      expect(new Set(rungs.map((r) => r.trainFraction)).size).toBeGreaterThanOrEqual(3);
      expect(new Set(rungs.map((r) => r.features)).size).toBe(3);
      expect(rungs.some((r) => r.scale) && rungs.some((r) => r.model === 'linear' && !r.scale)).toBe(true);
    },
  );

  it('fits naive Bayes to classification only, and caps what is expensive', () => {
    expect(ladderRungs('binary-classification').some((r) => r.model === 'naive-bayes')).toBe(true);
    expect(ladderRungs('regression').some((r) => r.model === 'naive-bayes')).toBe(false);
    for (const taskType of TASK_TYPES)
      for (const r of ladderRungs(taskType).filter((x) => ['knn', 'forest', 'blend'].includes(x.model)))
        expect(r.maxRows, r.name).toBeLessThanOrEqual(10_000);
    for (const r of ladderRungs('regression').filter((x) => ['forest', 'extra-trees'].includes(x.model)))
      expect(r.params.trees, r.name).toBeLessThanOrEqual(150);
  });

  it('deals every rung into exactly one lane, the expensive ones (last) spread over the lanes', () => {
    const names = ladderRungs('regression').map((r) => r.name);
    const lanes = ladderLanes(names);
    expect(lanes.length).toBe(LADDER_WINDOW);
    expect(lanes.flat().sort()).toEqual([...names].sort());
    const sizes = lanes.map((l) => l.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const last = new Set(names.slice(-LADDER_WINDOW));
    for (const lane of lanes) expect(lane.filter((r) => last.has(r)).length).toBe(1);
    expect(ladderLanes(['a', 'b'])).toEqual([['a'], ['b']]);
  });

  it('gives a text task TF-IDF rungs: naive Bayes, linear and SVM models at graded settings, enough to pass', () => {
    const rungs = rungsFor('binary-classification', 'text');
    expect(rungs).toEqual(textLadderRungs());
    expect(rungsFor('binary-classification', 'tabular')).toEqual(ladderRungs('binary-classification'));
    expect(rungs.length).toBeGreaterThanOrEqual(MIN_VALID_RUNGS + 2);
    expect(new Set(rungs.map((r) => r.name)).size).toBe(rungs.length);
    expect(rungs[0]!.model).toBe('prior');
    for (const model of ['tfidf-nb', 'tfidf-linear', 'tfidf-svm'] as const) {
      const settings = rungs.filter((r) => r.model === model).map((r) => JSON.stringify(r.params));
      expect(new Set(settings).size, model).toBeGreaterThanOrEqual(3);
    }
  });

  it('is the same table every time (a second run gives the same scripts)', () => {
    expect(JSON.stringify(ladderRungs('regression'))).toBe(JSON.stringify(ladderRungs('regression')));
  });
});

describe('which rungs make the board', () => {
  const results = (valid: number, failed: number): RungResult[] => [
    ...Array.from({ length: valid }, (_, i) => ({ rung: `r${i}`, score: i / 100 })),
    ...Array.from({ length: failed }, (_, i) => ({ rung: `bad${i}`, error: 'exited 1: ValueError' })),
  ];

  it(`passes ladder.enough_rungs with ${MIN_VALID_RUNGS} valid rungs and rejects with fewer, naming each failure`, () => {
    expect(CHECKS.ladder).toContain('ladder.enough_rungs');
    expect(ladderCheck(results(MIN_VALID_RUNGS, 5))).toMatchObject({ name: 'ladder.enough_rungs', passed: true });
    const short = ladderCheck(results(MIN_VALID_RUNGS - 1, 3));
    expect(short).toMatchObject({ name: 'ladder.enough_rungs', passed: false });
    expect(short.detail).toContain(`only ${MIN_VALID_RUNGS - 1} of ${MIN_VALID_RUNGS + 2}`);
    expect((short.evidence as { off: unknown[] }).off).toContainEqual({ rung: 'bad0', why: 'exited 1: ValueError' });
  });

  it('leaves off a rung that scores worse than the sample submission, in either direction', () => {
    const rs: RungResult[] = [
      { rung: 'a', score: 0.4 },
      { rung: 'b', score: 0.5 },
      { rung: 'c', score: 0.9 },
    ];
    expect(offBelowTrivial(rs, 0.5, HIGH).map((r) => r.error === undefined)).toEqual([false, true, true]);
    expect(offBelowTrivial(rs, 0.5, LOW).map((r) => r.error === undefined)).toEqual([true, true, false]);
    expect(offBelowTrivial(rs, 0.5, HIGH)[0]!.error).toMatch(/worse than the sample submission/);
  });
});

describe('leaderboard.csv', () => {
  it('is a clear error, naming the file and line, for a non-numeric score or an unknown kind', () => {
    const bad = 'entry,score,kind\ntrivial,0.5,reference\nbaseline,n/a,reference\n';
    expect(() => parseLeaderboard(bad, '/tasks/t/leaderboard.csv')).toThrow(
      /\/tasks\/t\/leaderboard\.csv line 3: score "n\/a" is not a number/,
    );
    expect(() => parseLeaderboard('entry,score,kind\ntrivial,0.5,reference\nx,,human\n')).toThrow(/line 3/);
    expect(() => parseLeaderboard('entry,score,kind\nx,0.5,robot\n', 'lb.csv')).toThrow(
      /lb\.csv line 2: unknown kind "robot": use one of human, reference, threshold/,
    );
  });

  it('puts a forged task’s ladder on its one board, and an imported or synthetic task’s on a second', () => {
    const forged = 'entry,score,kind\ntrivial,0.5,reference\nbaseline,0.8,reference\nladder/knn-5,0.7,reference\n';
    expect(parseLeaderboards(forged)).toEqual([{ name: 'reference', scores: [0.5, 0.8, 0.7] }]);
    const imported =
      'entry,score,kind,board\nalice,0.9,human,public\nbob,0.6,human,public\n' +
      'trivial,0.5,reference,ladder\nladder/knn-5,0.7,reference,ladder\n';
    expect(parseLeaderboards(imported)).toEqual([
      { name: 'public', scores: [0.9, 0.6] },
      { name: 'ladder', scores: [0.5, 0.7] },
    ]);
    const synthetic =
      'entry,score,kind,board\ntrivial,0.5,reference,ladder\nladder/prior,0.5,reference,ladder\n' +
      'gold,0.9,threshold,\nsilver,0.8,threshold,\nbronze,0.7,threshold,\nmedian,0.6,threshold,\n';
    expect(parseLeaderboards(synthetic).map((b) => b.name)).toEqual(['thresholds', 'ladder']);
  });

  it('records the valid rungs as reference entries after trivial and baseline, and keeps human entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-ladder-'));
    const ladder: RungResult[] = [
      { rung: 'prior', score: 0.5 },
      { rung: 'knn-1', error: 'exited 1: MemoryError' },
      { rung: 'blend-all', score: 0.93 },
    ];
    await recordReferenceScores(dir, { trivial: 0.5, baseline: 0.9 }, undefined, ladder);
    expect(readFileSync(join(dir, 'leaderboard.csv'), 'utf8')).toBe(
      'entry,score,kind\ntrivial,0.5,reference\nbaseline,0.9,reference\n' +
        `${rungEntry('prior')},0.5,reference\n${rungEntry('blend-all')},0.93,reference\n`,
    );
    writeFileSync(join(dir, 'leaderboard.csv'), 'entry,score,kind,board\nalice,0.95,human,public\n');
    await recordReferenceScores(dir, { trivial: 0.5, baseline: 0.9 }, undefined, ladder);
    const rows = parseLeaderboard(readFileSync(join(dir, 'leaderboard.csv'), 'utf8'));
    expect(rows.map((r) => `${r.entry}@${r.board}`)).toEqual([
      'alice@public',
      'trivial@ladder',
      'baseline@ladder',
      'ladder/prior@ladder',
      'ladder/blend-all@ladder',
    ]);
  });
});

describe('rewards on a ladder board', () => {
  // a forged task's board: trivial, then 27 rungs and the baseline (rmse, lower is better)
  const board = [7.47, 7.47, 6.7, 6.1, 6.09, 5.66, 5.54, 5.28, 4.69, 4.64, 4.64, 4.39, 4.33, 4.18, 4.16, 4.15].concat([
    4.13, 4.13, 4.06, 3.96, 3.96, 3.8, 3.78, 3.76, 3.56, 3.34, 3.21, 3.11, 2.95, 2.9, 3.0,
  ]);
  const baseline = 3.34;

  it('ranks the baseline inside the board and the trivial entry last', () => {
    const rank = humanRank(baseline, board, LOW);
    expect(rank).toBeGreaterThanOrEqual(0.2);
    expect(rank).toBeLessThanOrEqual(0.85);
    expect(humanRank(7.47, board, LOW)).toBe(1 - (board.length - 2) / board.length);
    expect(Math.min(...board.map((s) => humanRank(s, board, LOW)))).toBe(humanRank(7.47, board, LOW));
  });

  it('keeps MLE-bench’s medal positions for the board’s size, so matching the baseline is no gold', () => {
    const t = medalThresholds(board, LOW); // 31 entries: gold at 3, silver at 6, bronze at 12
    const sorted = [...board].sort((a, b) => a - b);
    expect(t).toMatchObject({ gold: sorted[2], silver: sorted[5], bronze: sorted[11] });
    expect(rewardOf('medal', { raw: baseline, position: 0 }, [{ scores: board }], LOW)).toBeLessThan(1);
    expect(rewardOf('medal', { raw: 2.5, position: 1 }, [{ scores: board }], LOW)).toBe(1);
    const dense = [7, 5, 4, 3.5, 3].map((s) => rewardOf('medal', { raw: s, position: 0 }, [{ scores: board }], LOW));
    expect(dense).toEqual([...dense].sort((a, b) => a - b));
    expect(new Set(dense).size).toBe(dense.length);
  });

  it('shows the board’s shape in request_info: entries, score range and medal thresholds', () => {
    const task = {
      taskId: 't',
      packageDir: '/tasks/t',
      title: 'T',
      taskType: 'regression' as const,
      target: 'y',
      idColumn: 'id',
      metric: { name: 'rmse', ...LOW },
      resources: { cpus: 1, memoryMb: 512, gpu: false, timeLimitS: 60 },
      description: 'd',
      files: [],
      columns: [],
      sampleSubmission: 'id,y',
      leaderboards: leaderboardsOf([]).concat([{ name: 'reference', scores: board }]),
    };
    const left = { stepsUsed: 0, stepsLeft: 5, wallTimeLeftS: 60 };
    expect(infoOf('metric', task, { steps: 5, wallTimeS: 60, idleTimeoutS: 60 }, left)).toMatchObject({
      leaderboards: [
        { name: 'reference', entries: board.length, best: 2.9, worst: 7.47, thresholds: medalThresholds(board, LOW) },
      ],
    });
  });
});
