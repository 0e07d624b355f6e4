import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeResult } from '../domain/forge';
import { better } from '../domain/metrics';
import { SEARCH } from '../domain/search-attributes';
import { type CorpusName, corpusDatasetPath, DEV_CORPUS } from '../examples/dev-corpus';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
import { createTestEnv, type TestEnv } from './helpers/env';

describe('forgeDataset on real datasets', () => {
  let t: TestEnv;
  let catalogDir: string;
  beforeAll(async () => {
    t = await createTestEnv();
    catalogDir = t.config.paths.catalog;
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  const forge = async (name: CorpusName): Promise<ForgeResult> =>
    t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-${name}-${Date.now()}`,
      args: [
        {
          dataset: await corpusDatasetPath(name, join(t.config.paths.home, 'examples')),
          name,
          catalogDir,
          maxTasks: 3,
          repairRounds: 1,
          concurrency: 2,
        },
      ],
    });

  // A few of the development corpus end to end (tests/dev-corpus.unit.test.ts checks the choice on all of
  // it, bench/forge.ts forges all of it): the first verified task is on a target the data exists for.
  it.each<CorpusName>(['penguins', 'boston-housing', 'unemployment-across-industries'])(
    '%s yields verified, distinct tasks on the targets it exists for, whose baselines beat the trivial submission',
    async (name) => {
      const result = await forge(name);
      const verified = result.tasks.filter((task) => task.status === 'verified');
      expect(verified.length, JSON.stringify(result.tasks, null, 1)).toBeGreaterThanOrEqual(1);

      const targets = verified.map((task) => JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8')).target);
      expect(new Set(targets).size).toBe(verified.length);
      expect(DEV_CORPUS[name].intended).toContain(targets[0]);
      expect(targets.filter((target) => (DEV_CORPUS[name].nonsense as string[]).includes(target))).toEqual([]);
      for (const task of verified) {
        expect(task.path).toBe(join(catalogDir, task.id));
        expect(better(task.metric, task.scores.baseline!, task.scores.trivial!)).toBe(true);
        for (const file of [
          'task.json',
          'description.md',
          'prepare.py',
          'metric.py',
          'solutions/baseline.py',
          'public/train.csv',
          'public/test.csv',
          'public/sample_submission.csv',
          'private/answers.csv',
          'leaderboard.csv',
          'verification.json',
        ]) {
          expect(existsSync(join(task.path, file)), `${task.id}/${file}`).toBe(true);
        }
        const report = JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8'));
        expect(report.status).toBe('verified');
        expect(report.checks.filter((c: { passed: boolean }) => !c.passed)).toEqual([]);
        const manifest = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8'));
        expect(manifest.referenceScores).toEqual(task.scores);
        expect(manifest.provenance).toMatchObject({
          provider: 'heuristic',
          workflowId: `${result.workflowId}--${task.id}`,
        });
        expect(readFileSync(join(task.path, 'leaderboard.csv'), 'utf8')).toMatch(
          /^entry,score,kind\ntrivial,.*\nbaseline,/,
        );
      }
      // Rejected drafts keep their report in the artifact store.
      for (const task of result.tasks.filter((x) => x.status === 'rejected')) {
        expect(task.failedChecks.length).toBeGreaterThan(0);
        if (task.path) expect(existsSync(join(task.path, 'verification.json'))).toBe(true);
      }
      // No half-published folders are left behind.
      expect(readdirSync(catalogDir).filter((d) => d.startsWith('.'))).toEqual([]);

      // Every child can be found by the dataset's search attribute (this file's task queue: other
      // files forge the same datasets on the same server).
      const children = [];
      for await (const wf of t.client.workflow.list({
        query: `AnvilDataset = '${name}' AND WorkflowType = 'forgeTask' AND TaskQueue = '${t.controlQueue}'`,
      }))
        children.push(wf.workflowId);
      expect(children.length).toBe(result.tasks.length);
      const first = await t.client.workflow.getHandle(`${result.workflowId}--${verified[0]!.id}`).describe();
      expect(first.typedSearchAttributes.get(SEARCH.verdict)).toBe('verified');
    },
    600_000, // up to three tasks, each a few sandbox runs: minutes on a loaded machine
  );

  describe('the repair loop, on penguins exported three times over (every row repeated)', () => {
    let dataset: string;
    beforeAll(async () => {
      const rows = JSON.parse(
        readFileSync(await exampleDatasetPath('penguins', join(t.config.paths.home, 'examples')), 'utf8'),
      );
      dataset = join(t.config.paths.home, 'penguins-tripled.json');
      writeFileSync(dataset, JSON.stringify([...rows, ...rows, ...rows]));
    });
    const forgeTripled = (repairRounds: number) =>
      t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
        taskQueue: t.controlQueue,
        workflowId: `forge-tripled-${repairRounds}-${Date.now()}`,
        args: [{ dataset, name: `tripled-${repairRounds}`, catalogDir, maxTasks: 1, repairRounds }],
      });

    it('sends the failed check back to the Designer, whose next round repairs it', async () => {
      const {
        tasks: [task],
      } = await forgeTripled(2);
      expect(task!.status).toBe('verified');
      expect(task!.rounds).toBe(2);
      // Round 0: the baseline memorised rows repeated across the split; its report stays.
      const drafts = join(t.config.paths.artifacts, 'forge');
      const forgeDir = readdirSync(drafts).find((d) => d.startsWith('forge-tripled-2-'))!;
      const first = JSON.parse(readFileSync(join(drafts, forgeDir, task!.id, 'round-0', 'verification.json'), 'utf8'));
      expect(first.status).toBe('rejected');
      expect(first.checks.filter((c: { passed: boolean }) => !c.passed).map((c: { name: string }) => c.name)).toEqual([
        'baseline.not_perfect',
      ]);
      expect(first.scores.baseline).toBe(1);
      // Round 1 removed the repeats and the baseline is no longer perfect.
      expect(
        JSON.parse(readFileSync(join(drafts, forgeDir, task!.id, 'round-1', 'design.json'), 'utf8')).config.dedupe,
      ).toBe(true);
      expect(task!.scores.baseline).toBeLessThan(1);
    });

    it('rejects the task, keeping its report, when no repair round is allowed', async () => {
      const {
        tasks: [task],
      } = await forgeTripled(0);
      expect(task).toMatchObject({ status: 'rejected', failedChecks: ['baseline.not_perfect'], rounds: 1 });
      expect(JSON.parse(readFileSync(join(task!.path, 'verification.json'), 'utf8')).status).toBe('rejected');
      expect(existsSync(join(catalogDir, task!.id))).toBe(false);
    });
  });
});
