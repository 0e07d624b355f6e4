import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvService } from '../client';
import type { Observation } from '../domain/env';
import { DEFAULT_TEST_SPLIT } from '../domain/task';
import { envService, publishFixture, trajectorySteps } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';

/**
 * Kaggle's public/private split, end to end on a real task (iris, graded in its container): the
 * agent's steps see the public rows' score only; the session's final reward is the private rows'.
 */

/** The public ids as the grading harness picks them: the first share of the ids in seeded-hash order. */
function publicIds(ids: string[], { publicShare, seed }: { publicShare: number; seed: number }): Set<string> {
  const hash = (id: string) => createHash('sha256').update(`${seed}:${id}`).digest('hex');
  const ranked = [...new Set(ids)].sort((a, b) => (hash(a) < hash(b) ? -1 : 1));
  return new Set(ranked.slice(0, Math.round(publicShare * ranked.length)));
}

/** A script writing these predictions: the answers, with the private rows' species swapped when `spoilPrivate`. */
function submissionCode(answers: [string, string][], isPublic: Set<string>, spoilPrivate: boolean): string {
  const other: Record<string, string> = { setosa: 'virginica', versicolor: 'setosa', virginica: 'versicolor' };
  const rows = answers.map(([id, species]) => `${id},${spoilPrivate && !isPublic.has(id) ? other[species] : species}`);
  return `open("/workspace/submission.csv", "w").write(${JSON.stringify(['id,species', ...rows].join('\n') + '\n')})`;
}

/** What a step tells the agent, without what differs between any two runs (their wall time). */
function comparable(o: Observation) {
  const { run, budget, ...rest } = o;
  return { ...rest, run: { ...run, wallMs: 0 }, budget: { ...budget, wallTimeLeftS: 0 } };
}

describe('public/private split of the hidden test rows', () => {
  let t: TestEnv;
  let envs: EnvService;
  let right: string;
  let spoilt: string;

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    const dir = await publishFixture(t, 'iris-species');
    envs = envService(t);
    const answers = readFileSync(join(dir, 'private', 'answers.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',') as [string, string]);
    const isPublic = publicIds(
      answers.map(([id]) => id),
      DEFAULT_TEST_SPLIT,
    );
    expect(isPublic.size).toBeGreaterThan(0);
    expect(isPublic.size).toBeLessThan(answers.length);
    right = submissionCode(answers, isPublic, false);
    spoilt = submissionCode(answers, isPublic, true);
  }, 300_000);
  afterAll(async () => t?.close());

  it('two submissions that differ only on private rows: the same observation, a different final reward', async () => {
    const play = async (code: string) => {
      const { envId } = await envs.create({ taskId: 'iris-species', budget: { steps: 5 }, rewardMode: 'raw' });
      const executed = await envs.step(envId, { action: 'execute_code', params: { code } });
      return { executed, closed: await envs.close(envId) };
    };
    const a = await play(right);
    const b = await play(spoilt);
    expect(a.executed.observation.status, JSON.stringify(a.executed.observation)).toBe('ok');
    expect(comparable(b.executed.observation)).toEqual(comparable(a.executed.observation));
    expect(b.executed.reward).toBe(a.executed.reward);
    expect(a.executed.observation.score!.raw).toBe(1);
    expect(a.closed.final).toMatchObject({ step: 1, reward: 1, score: { raw: 1 } });
    expect(b.closed.final).toMatchObject({ step: 1, reward: 0, score: { raw: 0 } });

    const [scored] = trajectorySteps(b.closed.trajectory);
    expect(scored!.observation.score!.raw).toBe(1); // what the agent saw
    expect(scored!.hidden!.private.raw).toBe(0); // kept beside it, marked hidden
  }, 180_000);

  it('the final submission is the last scored one unless select_submission marks another; a cap refuses more', async () => {
    const { envId } = await envs.create({
      taskId: 'iris-species',
      budget: { steps: 6, submissions: 2 },
      rewardMode: 'raw',
    });
    await envs.step(envId, { action: 'execute_code', params: { code: right } });
    await envs.step(envId, { action: 'execute_code', params: { code: spoilt } });
    const capped = await envs.step(envId, { action: 'execute_code', params: { code: right } });
    expect(capped.observation).toMatchObject({ status: 'error', error: { type: 'SubmissionCap' } });
    expect(capped.observation.run).toBeUndefined(); // refused without running
    const wrong = await envs.step(envId, { action: 'select_submission', params: { step: 3 } });
    expect(wrong.observation).toMatchObject({ status: 'error', error: { type: 'NoSuchSubmission' } });
    expect((await envs.get(envId)).final).toBeUndefined(); // nothing revealed before the end
    const selected = await envs.step(envId, { action: 'select_submission', params: { step: 1 } });
    expect(selected.observation.status).toBe('ok');
    expect((await envs.close(envId)).final).toMatchObject({ step: 1, reward: 1 });

    const { envId: other } = await envs.create({ taskId: 'iris-species', budget: { steps: 4 }, rewardMode: 'raw' });
    await envs.step(other, { action: 'execute_code', params: { code: right } });
    await envs.step(other, { action: 'execute_code', params: { code: spoilt } });
    expect((await envs.close(other)).final).toMatchObject({ step: 2, reward: 0 });
  }, 180_000);
});
