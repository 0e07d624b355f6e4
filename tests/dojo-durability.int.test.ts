import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepResult } from '../domain/env';
import type { EnvService } from '../client';
import { envService, publishFixture, trajectorySteps } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

/** Writes the sample submission as the prediction: valid, cheap, needs nothing but the csv module. */
const SAMPLE_AS_SUBMISSION =
  'import shutil\nshutil.copy("/data/sample_submission.csv", "/workspace/submission.csv")\nprint("copied")';

describe('Dojo sessions survive a lost worker and run side by side', () => {
  let t: TestEnv;
  let task: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    t = await createTestEnv({ ANVIL_SESSION_CONCURRENCY: '16' });
    await t.startWorker('control');
    await t.startWorker('llm');
    workers.push(await startWorkerProcess('cpu', t.env));
    await publishFixture(t, 'iris-species');
    task = 'iris-species';
  }, 300_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await t?.close();
  });

  it('a worker killed during a step: the update completes after a restart, and the trajectory holds each step once', async () => {
    const envs = envService(t);
    const { envId } = await envs.create({ taskId: task });
    await envs.step(envId, { action: 'request_info', params: { kind: 'data' } });
    const slow = envs.step(envId, {
      action: 'validate_code',
      params: { code: 'import time\ntime.sleep(6)\nopen("/workspace/done.txt", "w").write("x")\nprint("slept")' },
    });
    await new Promise((r) => setTimeout(r, 2500));
    workers[0]!.child.kill('SIGKILL');
    await workers[0]!.exited;
    workers.push(await startWorkerProcess('cpu', t.env));
    const result = await slow;
    expect(result.observation, JSON.stringify(result.observation)).toMatchObject({ step: 2, status: 'ok' });
    expect(result.observation.run!.stdout).toContain('slept');
    const scored = await envs.step(envId, { action: 'execute_code', params: { code: SAMPLE_AS_SUBMISSION } });
    expect(scored.observation.status, JSON.stringify(scored.observation)).toBe('ok');
    const state = await envs.close(envId);
    expect(trajectorySteps(state.trajectory).map((s) => s.step)).toEqual([1, 2, 3]);
  }, 180_000);

  it('50 concurrent sessions each finish a scripted 5-step episode, with no lost or duplicated steps, across continue-as-new', async () => {
    // A new run every 2 steps, so each episode also crosses two continue-as-new boundaries.
    const envs: EnvService = envService(t, { stepsPerRun: 2 });
    const episode = async (): Promise<{ envId: string; results: StepResult[]; trajectory: string }> => {
      const { envId } = await envs.create({ taskId: task, budget: { steps: 5 } });
      const results: StepResult[] = [];
      results.push(await envs.step(envId, { action: 'request_info', params: { kind: 'overview' } }));
      results.push(await envs.step(envId, { action: 'validate_code', params: { code: 'print(6 * 7)' } }));
      results.push(await envs.step(envId, { action: 'execute_code', params: { code: SAMPLE_AS_SUBMISSION } }));
      results.push(await envs.step(envId, { action: 'get_history', params: {} }));
      results.push(await envs.step(envId, { action: 'request_info', params: { kind: 'budget' } }));
      return { envId, results, trajectory: (await envs.get(envId)).trajectory };
    };
    const episodes = await Promise.all(Array.from({ length: 50 }, episode));

    expect(new Set(episodes.map((e) => e.envId)).size).toBe(50);
    let steps = 0;
    for (const { results, trajectory } of episodes) {
      expect(results.map((r) => r.observation.step)).toEqual([1, 2, 3, 4, 5]);
      expect(results.map((r) => r.observation.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(results[1]!.observation.run!.stdout.trim()).toBe('42');
      expect(results[3]!.observation.history!.map((h) => h.step)).toEqual([1, 2, 3]);
      expect(results.at(-1)!).toMatchObject({ done: true, observation: { doneReason: 'steps' } });
      const written = trajectorySteps(trajectory);
      expect(written.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);
      steps += written.length;
    }
    expect(steps).toBe(250);
    const runs = [];
    for await (const run of t.client.workflow.list({ query: `WorkflowId = '${episodes[0]!.envId}'` }))
      runs.push(run.runId);
    expect(runs.length).toBeGreaterThanOrEqual(3); // continued as new twice (after steps 2 and 4)
    // Every file holds only its own session's steps.
    for (const { envId, trajectory } of episodes)
      expect(
        new Set(
          readFileSync(trajectory, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l).envId),
        ),
      ).toEqual(new Set([envId]));
  }, 600_000);
});
