import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../domain/verification';
import type { RolloutResult } from '../domain/rollouts';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);
// vega-datasets' monthly prices of five stocks, 2000-2010: one series per symbol
const STOCKS = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'stocks.csv');

/** `anvil forge` on a multi-series time table, then the task it verified through `env run` and a rollout. */
describe('forecasting end to end: anvil forge, env run and rollout on stock prices', () => {
  let t: TestEnv;
  const anvil = async (args: string[]) => {
    const bin = join(__dirname, '..', 'bin', 'anvil.js');
    const done = await exec(process.execPath, [bin, ...args], { env: t.env, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(done.code, done.stderr + done.stdout).toBe(0);
    return JSON.parse(done.stdout.trim().split('\n').at(-1)!) as unknown;
  };
  let taskId: string;
  let taskDir: string;

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  it('forges a verified forecasting task: one origin for every symbol, a lag-feature baseline, MASE', async () => {
    const forged = (await anvil(['forge', STOCKS, '--max-tasks', '1', '--repair-rounds', '0', '--json'])) as {
      tasks: { id: string; status: string; path: string; scores: { trivial: number; baseline: number } }[];
    };
    const task = forged.tasks.find((x) => x.status === 'verified');
    expect(task, JSON.stringify(forged)).toBeDefined();
    [taskId, taskDir] = [task!.id, task!.path];
    const manifest = JSON.parse(readFileSync(join(taskDir, 'task.json'), 'utf8'));
    expect(manifest).toMatchObject({
      taskType: 'forecasting',
      modality: 'time-series',
      target: 'price',
      metric: { name: 'mase' },
      forecast: { time: 'date', series: ['symbol'], horizon: 12 },
    });
    expect(task!.scores.baseline).toBeLessThan(task!.scores.trivial);
    const checks = JSON.parse(readFileSync(join(taskDir, 'verification.json'), 'utf8')).checks as CheckResult[];
    for (const name of ['forecast.time_split', 'forecast.no_future_features', 'target.not_trivial'])
      expect(checks.find((c) => c.name === name)?.passed, name).toBe(true);
    // test.csv holds what is known at the origin: ids, the symbol and the month
    const [header, ...rows] = readFileSync(join(taskDir, 'public', 'test.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(header).toBe('id,symbol,date');
    expect(rows).toHaveLength(5 * 12);
  }, 900_000);

  it('plays through anvil env run and a 4-sample heuristic rollout', async () => {
    expect(taskId).toBeDefined();
    const episode = (await anvil(['env', 'run', taskId, '--policy', 'heuristic', '--json'])) as {
      final: { score: { raw: number } };
    };
    expect(Number.isFinite(episode.final.score.raw)).toBe(true);
    const rollout = (await anvil([
      'rollout',
      '--task',
      taskId,
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
    expect(rollout.episodes.every((e) => Number.isFinite(e.reward))).toBe(true);
    expect(rollout.groups).toMatchObject([{ task: taskId, episodes: 4 }]);
  }, 900_000);
});
