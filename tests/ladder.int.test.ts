import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLadderActivities } from '../activities/ladder';
import type { ForgeResult } from '../domain/forge';
import { ladderRungs } from '../domain/ladder';
import { humanRank } from '../domain/rewards';
import type { TaskManifest } from '../domain/task';
import type { CheckResult } from '../domain/verification';
import { corpusDatasetPath, type CorpusName } from '../examples/dev-corpus';
import { parseLeaderboard } from '../package/leaderboard';
import type { forgeDataset, verifyPackage } from '../workflows';
import { createTestEnv, type TestEnv } from './helpers/env';

/**
 * Small real tables of the development corpus, each forged into its first proposal (house values, fuel
 * economy, wages). Seattle's weather no longer serves: its first proposal is now a temperature forecast,
 * whose board of tabular rungs is thinner (23 entries: rungs on date parts alone fall below the sample).
 */
const DATASETS = ['boston-housing', 'cars', 'cps-wages-1985'] as const;

describe('the reference ladder', () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  const forge = async (name: CorpusName): Promise<ForgeResult> =>
    t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `ladder-forge-${name}-${Date.now()}`,
      args: [
        {
          dataset: await corpusDatasetPath(name, join(t.config.paths.home, 'examples')),
          name,
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          repairRounds: 1,
          concurrency: 1,
          ladder: true,
        },
      ],
    });
  const verify = (sourceDir: string) =>
    t.client.workflow.execute<typeof verifyPackage>('verifyPackage', {
      taskQueue: t.controlQueue,
      workflowId: `ladder-verify-${Date.now()}`,
      args: [{ sourceDir, ladder: true }],
    });
  const board = (dir: string) => parseLeaderboard(readFileSync(join(dir, 'leaderboard.csv'), 'utf8'));

  it(
    'gives forged tasks from three datasets 24+ reference entries, 15+ distinct scores, the baseline inside, ' +
      'the trivial entry last',
    async () => {
      const results = await Promise.all(DATASETS.map(forge));
      const figures = [];
      for (const result of results) {
        const task = result.tasks[0]!;
        expect(task.status, JSON.stringify(task)).toBe('verified');
        const manifest = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8')) as TaskManifest;
        const rows = board(task.path).filter((r) => r.kind === 'reference');
        const scores = rows.map((r) => Number(r.score));
        const score = (entry: string) => Number(rows.find((r) => r.entry === entry)!.score);
        const report = JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8'));
        const ladderCheck = report.checks.find((c: CheckResult) => c.name === 'ladder.enough_rungs');
        expect(ladderCheck?.passed, JSON.stringify(ladderCheck)).toBe(true);
        // every rung's script is kept in the package
        expect(readdirSync(join(task.path, 'solutions', 'ladder')).sort()).toEqual(
          ladderRungs(manifest.taskType)
            .map((r) => `${r.name}.py`)
            .sort(),
        );
        const trivialRank = humanRank(score('trivial'), scores, manifest.metric);
        figures.push({
          task: task.id,
          metric: manifest.metric.name,
          entries: rows.length,
          distinct: new Set(scores).size,
          baselineRank: humanRank(score('baseline'), scores, manifest.metric),
          trivialLast: scores.every((s) => humanRank(s, scores, manifest.metric) >= trivialRank),
          off: ladderCheck.evidence?.off ?? [],
        });
      }
      console.log(JSON.stringify(figures, null, 1));
      for (const f of figures) {
        expect(f.entries, f.task).toBeGreaterThanOrEqual(24);
        expect(f.distinct, f.task).toBeGreaterThanOrEqual(15);
        expect(f.trivialLast, f.task).toBe(true);
      }
      const inside = figures.filter((f) => f.baselineRank >= 0.2 && f.baselineRank <= 0.85);
      expect(inside.length, JSON.stringify(figures)).toBeGreaterThanOrEqual(2);
    },
    1_800_000,
  );

  it(
    'records a rung that crashes or writes an invalid submission with its reason, rejects under 10 rungs, ' +
      'and gives the same scores twice',
    async () => {
      // a good fixture package that keeps a short ladder: three generated rungs (two of them
      // randomised, seeded), one that crashes, one that writes a submission the metric refuses
      const dir = join(t.config.paths.home, 'short-ladder');
      cpSync(join(__dirname, 'fixtures', 'packages', 'boston-medv'), dir, { recursive: true });
      await createLadderActivities({ sandbox: undefined as never, scratchDir: dir }).writeLadder({ packageDir: dir });
      const ladderDir = join(dir, 'solutions', 'ladder');
      const kept = ['prior', 'forest-10', 'bagged-boosting-8'];
      for (const f of readdirSync(ladderDir)) if (!kept.includes(f.slice(0, -3))) rmSync(join(ladderDir, f));
      writeFileSync(join(ladderDir, 'crash.py'), 'raise RuntimeError("this rung is broken on purpose")\n');
      writeFileSync(
        join(ladderDir, 'invalid.py'),
        'open("/workspace/submission.csv", "w").write("id,medv\\n1,2\\n")\n',
      );

      const first = await verify(dir);
      expect(first.status).toBe('rejected');
      const check = first.checks.find((c) => c.name === 'ladder.enough_rungs')!;
      expect(check).toMatchObject({ passed: false });
      expect(check.detail).toMatch(/only 3 of 5 reference rungs/);
      const off = (check.evidence as { off: { rung: string; why: string }[] }).off;
      expect(off.find((o) => o.rung === 'crash')?.why).toMatch(
        /exited 1: RuntimeError: this rung is broken on purpose/,
      );
      expect(off.find((o) => o.rung === 'invalid')?.why).toMatch(/^invalid submission: /);
      // the valid rungs are on the board, the others are not
      const entries = board(first.packageDir).map((r) => r.entry);
      expect(entries).toEqual(expect.arrayContaining(kept.map((k) => `ladder/${k}`)));
      expect(entries.filter((e) => e === 'ladder/crash' || e === 'ladder/invalid')).toEqual([]);

      const second = await verify(dir);
      const scores = (r: typeof first) => r.ladder!.map(({ rung, score, error }) => ({ rung, score, error }));
      expect(scores(second)).toEqual(scores(first));
    },
    900_000,
  );
});
