import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../domain/env';
import { infoOf } from '../domain/env-info';
import { bestOf, runError, scoresOf } from '../domain/observations';
import { rewardOf } from '../domain/rewards';

const run = (over: Partial<RunSummary>): RunSummary => ({
  exitCode: 0,
  timedOut: false,
  oomKilled: false,
  wallMs: 10,
  stdout: '',
  stderr: '',
  outputTruncated: false,
  ...over,
});
const limits = { timeoutS: 30, memoryMb: 512 };
const higher = { higherIsBetter: true };
const lower = { higherIsBetter: false };

describe('Dojo observations', () => {
  it('names the Python exception a failed step raised, with likely causes', () => {
    const stderr =
      'Traceback (most recent call last):\n  File "/code/main.py", line 2, in <module>\n    df["nope"]\nKeyError: \'nope\'\n';
    expect(runError(run({ exitCode: 1, stderr }), limits)).toMatchObject({ type: 'KeyError', message: "'nope'" });
    expect(
      runError(run({ exitCode: 1, stderr: "ModuleNotFoundError: No module named 'torch'" }), limits)!.likelyCauses.join(
        ' ',
      ),
    ).toMatch(/no network/);
    expect(
      runError(
        run({ exitCode: 1, stderr: '  File "x", line 1\n    def (:\n        ^\nSyntaxError: invalid syntax' }),
        limits,
      )!.type,
    ).toBe('SyntaxError');
    expect(runError(run({ exitCode: null, timedOut: true }), limits)).toMatchObject({
      type: 'Timeout',
      message: expect.stringContaining('30 s'),
    });
    expect(runError(run({ exitCode: null, oomKilled: true }), limits)).toMatchObject({
      type: 'OutOfMemory',
      message: expect.stringContaining('512 MB'),
    });
    expect(runError(run({ exitCode: 3, stderr: 'no traceback here' }), limits)).toMatchObject({ type: 'RuntimeError' });
    expect(runError(run({}), limits)).toBeUndefined();
  });

  it('averages HumanRank over the leaderboards and rewards each mode', () => {
    const boards = [
      { name: 'public', scores: [0.9, 0.8, 0.7, 0.6] },
      { name: 'private', scores: [0.95, 0.8] },
    ];
    const s = scoresOf(0.82, boards, higher);
    // public: 1 better of 4 → 0.75; private: 1 better of 2 → 0.5
    expect(s.position).toBeCloseTo((0.75 + 0.5) / 2, 12);
    expect(rewardOf('position', s, boards, higher)).toBeCloseTo(0.625, 12);
    expect(rewardOf('raw', s, boards, higher)).toBe(0.82);
    const medal = rewardOf('medal', s, boards, higher);
    expect(medal).toBeGreaterThan(0);
    expect(medal).toBeLessThanOrEqual(1);
    expect(rewardOf('position', undefined, boards, higher)).toBe(0);
    expect(scoresOf(1, [], higher)).toEqual({ raw: 1, position: 0, medal: 'none' });
    // Lower is better: an RMSE of 2 beats 3 and 4, loses to 1.
    expect(scoresOf(2, [{ name: 'public', scores: [1, 3, 4] }], lower).position).toBeCloseTo(1 - 1 / 3, 12);
  });

  it('keeps the better score under the metric direction', () => {
    const a = scoresOf(0.5, [], higher);
    const b = scoresOf(0.7, [], higher);
    expect(bestOf(a, b, higher)).toBe(b);
    expect(bestOf(a, b, lower)).toBe(a);
    expect(bestOf(undefined, a, higher)).toBe(a);
  });

  it('answers request_info kinds with public facts only', () => {
    const task = {
      taskId: 't',
      packageDir: '/secret/package',
      title: 'T',
      taskType: 'regression' as const,
      target: 'y',
      idColumn: 'id',
      metric: { name: 'rmse', higherIsBetter: false },
      resources: { cpus: 1, memoryMb: 512, gpu: false, timeLimitS: 60 },
      description: 'd',
      files: [{ name: 'train.csv', bytes: 10 }],
      columns: [],
      sampleSubmission: 'id,y\n1,0',
      leaderboards: [{ name: 'reference', scores: [1, 2] }],
    };
    const budget = { steps: 5, wallTimeS: 60, idleTimeoutS: 60 };
    const left = { stepsUsed: 1, stepsLeft: 4, wallTimeLeftS: 50 };
    for (const kind of ['overview', 'data', 'sample_submission', 'metric', 'budget'] as const) {
      expect(JSON.stringify(infoOf(kind, task, budget, left))).not.toContain('/secret');
    }
    expect(infoOf('metric', task, budget, left)).toMatchObject({ leaderboards: [{ name: 'reference', entries: 2 }] });
    expect(infoOf('budget', task, budget, left)).toEqual({ budget, left });
  });
});
