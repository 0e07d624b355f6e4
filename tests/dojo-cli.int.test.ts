import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_ACTIONS, type TrajectoryEntry } from '../domain/env';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);
const FIXTURES = join(__dirname, 'fixtures', 'imports');

/** HumanRank per board from leaderboard.csv's text, averaged: computed here, independently of the Dojo. */
function averagedHumanRank(csv: string, score: number, higherIsBetter: boolean): number {
  const [header, ...lines] = csv.trim().split('\n');
  const cols = header!.split(',');
  const rows = lines.map((l) => l.split(',')).filter((r) => r[cols.indexOf('kind')] === 'human');
  const boards = [...new Set(rows.map((r) => r[cols.indexOf('board')]))];
  const ranks = boards.map((b) => {
    const scores = rows.filter((r) => r[cols.indexOf('board')] === b).map((r) => Number(r[cols.indexOf('score')]));
    return 1 - scores.filter((s) => (higherIsBetter ? s > score : s < score)).length / scores.length;
  });
  return ranks.reduce((a, b) => a + b, 0) / ranks.length;
}

describe('anvil import, env run and env export', () => {
  let t: TestEnv;
  const anvil = async (args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [join(__dirname, '..', 'bin', 'anvil.js'), ...args], {
        env: t.env,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  it.each([
    [
      'mle-bench',
      join(FIXTURES, 'mle-bench', 'mlebench', 'competitions', 'palmer-penguins'),
      join(FIXTURES, 'mle-bench', 'data', 'palmer-penguins', 'raw'),
      1,
    ],
    [
      'mle-dojo',
      join(FIXTURES, 'mle-dojo', 'mledojo', 'competitions', 'car-fuel-efficiency'),
      join(FIXTURES, 'mle-dojo', 'data', 'prepared', 'car-fuel-efficiency', 'raw'),
      2,
    ],
  ])(
    'a %s competition is imported, played by the heuristic policy for a leaderboard reward, and exported for SFT',
    async (layout, dir, raw, boards) => {
      const imported = await anvil(['import', layout, dir, '--raw', raw, '--json']);
      expect(imported.code, imported.stderr + imported.stdout).toBe(0);
      const { taskId, publishedTo } = JSON.parse(imported.stdout.trim().split('\n').at(-1)!) as {
        taskId: string;
        publishedTo: string;
      };
      expect(publishedTo).toBe(join(t.config.paths.catalog, taskId));
      const leaderboard = readFileSync(join(publishedTo, 'leaderboard.csv'), 'utf8');
      expect(
        new Set(
          leaderboard
            .trim()
            .split('\n')
            .slice(1)
            .filter((l) => l.includes(',human,'))
            .map((l) => l.split(',').at(-1)),
        ).size,
      ).toBe(boards);

      const played = await anvil(['env', 'run', taskId, '--policy', 'heuristic', '--reward', 'position', '--json']);
      expect(played.code, played.stderr + played.stdout).toBe(0);
      const episode = JSON.parse(played.stdout.trim().split('\n').at(-1)!) as {
        envId: string;
        reward: number;
        best: { raw: number };
        final: { score: { raw: number } };
        trajectory: string;
      };
      const manifest = JSON.parse(readFileSync(join(publishedTo, 'task.json'), 'utf8'));
      expect(episode.reward).toBeCloseTo(
        averagedHumanRank(leaderboard, episode.final.score.raw, manifest.metric.higherIsBetter),
        12,
      );

      const steps = readFileSync(episode.trajectory, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TrajectoryEntry);
      expect(steps.map((s) => s.step)).toEqual(steps.map((_, i) => i + 1));
      expect(steps.at(-1)!.action).toBe('execute_code');

      const exported = await anvil(['env', 'export', episode.envId, '--format', 'sft']);
      expect(exported.code, exported.stderr).toBe(0);
      const record = JSON.parse(exported.stdout) as {
        messages: { role: string; tool_calls?: { function: { name: string } }[] }[];
        reward: number;
        tools: unknown[];
      };
      expect(record.reward).toBeCloseTo(episode.reward, 12);
      expect(record.tools).toHaveLength(ENV_ACTIONS.length);
      const calls = record.messages.filter((m) => m.role === 'assistant').map((m) => m.tool_calls![0]!.function.name);
      expect(calls).toEqual(steps.map((s) => s.action));
      expect(record.messages.filter((m) => m.role === 'tool')).toHaveLength(steps.length);
    },
  );

  it('env serve makes and prints an admin key on first start, answers with it on its port with the catalog it was given, until SIGTERM', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const child = spawn(
      process.execPath,
      [join(__dirname, '..', 'bin', 'anvil.js'), 'env', 'serve', '--port', port, '--catalog', t.config.paths.catalog],
      { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      for (let i = 0; i < 120 && !out.includes('Dojo gateway on'); i++) await new Promise((r) => setTimeout(r, 500));
      expect(out).toContain(`http://127.0.0.1:${port}`);
      const key = /^(anvil_\S+)$/m.exec(out)?.[1];
      expect(key, out).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${port}/v1/tasks`)).status).toBe(401);
      const authorization = { authorization: `Bearer ${key}` };
      const tasks = (await (await fetch(`http://127.0.0.1:${port}/v1/tasks`, { headers: authorization })).json()) as {
        tasks: { id: string }[];
      };
      expect(tasks.tasks.map((x) => x.id)).toEqual(expect.arrayContaining(['palmer-penguins', 'car-fuel-efficiency']));
      const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/v1/envs', '/v1/envs/{id}/step', '/v1/envs/{id}', '/v1/tasks']),
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses bad input with a clear message and exit 2', async () => {
    const noRaw = await anvil([
      'import',
      'mle-bench',
      join(FIXTURES, 'mle-bench', 'mlebench', 'competitions', 'palmer-penguins'),
    ]);
    expect(noRaw.code).toBe(2);
    expect(noRaw.stderr).toMatch(/raw/);
    expect((await anvil(['import', 'kaggle', '/tmp'])).code).toBe(2);
    const unknown = await anvil(['env', 'run', 'no-such-task', '--policy', 'heuristic']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no task "no-such-task"/);
    expect((await anvil(['env', 'export', 'env-nothing', '--format', 'sft'])).stderr).toMatch(/no trajectory/);
  });
});
