import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpisodeOutcome, RolloutResult } from '../domain/rollouts';
import { createRolloutService } from '../client/rollouts';
import { temporalExecutable } from '../client/dev-server';
import { envService, http, publishFixture, startGateway, trajectorySteps } from './helpers/dojo';
import { type ScriptedLlm, startScriptedLlm } from './helpers/scripted-llm';
import { policyScript } from './helpers/scripted-policy';
import { createTestEnv, type TestEnv } from './helpers/env';
import { testKey } from './helpers/keys';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const exec = promisify(execFile);

/** Every episode's trajectory holds steps 1..n exactly once, and belongs to that episode alone. */
function expectTrajectoriesOnce(episodes: EpisodeOutcome[]): void {
  expect(new Set(episodes.map((e) => e.trajectory)).size).toBe(episodes.length);
  for (const e of episodes) {
    const steps = trajectorySteps(e.trajectory!);
    expect(
      steps.map((s) => s.step),
      `${e.task} #${e.sample}`,
    ).toEqual(Array.from({ length: e.steps }, (_, i) => i + 1));
    expect(new Set(steps.map((s) => s.envId))).toEqual(new Set([e.envId]));
  }
}

function expectGroupsConsistent(result: RolloutResult): void {
  for (const g of result.groups) {
    const rewards = result.episodes.filter((e) => e.task === g.task).map((e) => e.reward);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    expect(g.episodes).toBe(rewards.length);
    expect(g.mean).toBeCloseTo(mean, 12);
    expect(g.std).toBeCloseTo(Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / rewards.length), 12);
    expect(g.advantages.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
  }
}

describe('rolloutBatch', () => {
  let t: TestEnv;
  let gateway: { app: FastifyInstance; url: string };
  let llm: ScriptedLlm;
  const cpuWorkers: WorkerProcess[] = [];
  const [owner, other] = [testKey('trainer'), testKey('other')];

  beforeAll(async () => {
    llm = await startScriptedLlm(policyScript());
    t = await createTestEnv({
      ANVIL_SESSION_CONCURRENCY: '16',
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'test',
      ANVIL_MODEL: 'scripted',
    });
    await t.startWorker('control');
    await t.startWorker('llm');
    cpuWorkers.push(await startWorkerProcess('cpu', t.env));
    await Promise.all(['iris-species', 'penguins-sex'].map((name) => publishFixture(t, name)));
    const rollouts = createRolloutService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: t.config.paths.catalog,
    });
    gateway = await startGateway(envService(t), rollouts, { keys: [owner, other] });
  }, 300_000);
  afterAll(async () => {
    for (const w of cpuWorkers) w.child.kill('SIGKILL');
    await gateway?.app.close();
    await t?.close();
    await llm?.close();
  });

  it('32 heuristic episodes over HTTP finish with every trajectory written once, also when the sandbox worker is killed mid-batch', async () => {
    const started = await http<{ id: string }>(gateway.url, 'POST', '/v1/rollouts', {
      tasks: ['iris-species', 'penguins-sex'],
      policy: 'heuristic',
      samplesPerTask: 16,
      maxSteps: 6,
      concurrency: 8,
      rewardMode: 'position',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const { id } = started.body;

    // Kill the only sandbox worker once some episodes are done and others are mid-step.
    for (let i = 0; i < 600; i++) {
      const status = (
        await http<{ status: string; progress?: { done: number } }>(gateway.url, 'GET', `/v1/rollouts/${id}`)
      ).body;
      if ((status.progress?.done ?? 0) >= 4) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    cpuWorkers[0]!.child.kill('SIGKILL');
    await cpuWorkers[0]!.exited;
    cpuWorkers.push(await startWorkerProcess('cpu', t.env));

    const result = (await t.client.workflow.getHandle(id).result()) as RolloutResult;
    expect(result.episodes).toHaveLength(32);
    expect(result.episodes.map((e) => e.status)).toEqual(Array(32).fill('completed'));
    for (const e of result.episodes) expect(e.reward, `${e.task} #${e.sample}`).toBeGreaterThan(0);
    expectTrajectoriesOnce(result.episodes);
    expect(result.groups.map((g) => [g.task, g.episodes])).toEqual([
      ['iris-species', 16],
      ['penguins-sex', 16],
    ]);
    expectGroupsConsistent(result);
    const final = (await http<{ status: string; result: RolloutResult }>(gateway.url, 'GET', `/v1/rollouts/${id}`))
      .body;
    expect(final.status).toBe('completed');
    expect(final.result.episodes).toHaveLength(32);
  }, 900_000);

  it('16 episodes with an OpenAI-compatible policy (a scripted model) finish with every trajectory written once, also when the sandbox worker is killed mid-batch', async () => {
    const rollouts = createRolloutService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: t.config.paths.catalog,
    });
    const before = llm.requests.length;
    const { id } = await rollouts.start({
      tasks: ['iris-species', 'penguins-sex'],
      policy: 'openai',
      samplesPerTask: 8,
      maxSteps: 6,
      concurrency: 8,
      rewardMode: 'medal',
    });
    for (let i = 0; i < 600; i++) {
      const status = await rollouts.get(id);
      if (status.status !== 'running' || status.progress.done >= 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const victim = cpuWorkers.at(-1)!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    cpuWorkers.push(await startWorkerProcess('cpu', t.env));
    const result = (await t.client.workflow.getHandle(id).result()) as RolloutResult;
    expect(result.episodes).toHaveLength(16);
    expect(result.episodes.map((e) => e.status)).toEqual(Array(16).fill('completed'));
    expectTrajectoriesOnce(result.episodes);
    for (const e of result.episodes) {
      expect(trajectorySteps(e.trajectory!).map((s) => s.action)).toEqual([
        'request_info',
        'validate_code',
        'execute_code',
      ]);
    }
    // Each episode asked the model at least once per action and once more to stop.
    expect(llm.requests.length - before).toBeGreaterThanOrEqual(16 * 4);
    expectGroupsConsistent(result);
  }, 600_000);

  it("an episode's session belongs to the key that started the rollout: another key gets 404s, also from a fresh gateway", async () => {
    const started = await http<{ id: string }>(gateway.url, 'POST', '/v1/rollouts', {
      tasks: ['iris-species'],
      policy: 'heuristic',
      samplesPerTask: 1,
      maxSteps: 2,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const result = (await t.client.workflow.getHandle(started.body.id).result()) as RolloutResult;
    const envIds = result.episodes.map((e) => e.envId!);
    expect(envIds).toHaveLength(1);
    // A fresh gateway has no owner cached: it reads each session's owner from Temporal.
    const fresh = await startGateway(envService(t), undefined, { keys: [owner, other] });
    try {
      for (const envId of envIds) {
        expect((await http(fresh.url, 'GET', `/v1/envs/${envId}`, undefined, owner.token)).status).toBe(200);
        const read = await http(fresh.url, 'GET', `/v1/envs/${envId}`, undefined, other.token);
        const step = await http(fresh.url, 'POST', `/v1/envs/${envId}/step`, { action: 'reset' }, other.token);
        const close = await http(fresh.url, 'DELETE', `/v1/envs/${envId}`, undefined, other.token);
        expect([read.status, step.status, close.status]).toEqual([404, 404, 404]);
      }
    } finally {
      await fresh.app.close();
    }
  }, 300_000);

  it('starts from the Temporal CLI as the README shows, flags an episode that cannot start, and refuses bad input', async () => {
    const input = JSON.stringify({
      tasks: ['iris-species', 'no-such-task'],
      policy: 'heuristic',
      samplesPerTask: 1,
      maxSteps: 4,
      catalogDir: t.config.paths.catalog,
    });
    const workflowId = `rollout-cli-${Date.now()}`;
    await exec(temporalExecutable(), [
      'workflow',
      'start',
      '--address',
      t.env.TEMPORAL_ADDRESS!,
      '--type',
      'rolloutBatch',
      '--task-queue',
      t.controlQueue,
      '--workflow-id',
      workflowId,
      '--input',
      input,
    ]);
    const result = (await t.client.workflow.getHandle(workflowId).result()) as RolloutResult;
    expect(result.episodes.map((e) => [e.task, e.status])).toEqual([
      ['iris-species', 'completed'],
      ['no-such-task', 'failed'],
    ]);
    expect(result.episodes[1]!.error).toMatch(/no-such-task/);
    expect(result.groups.find((g) => g.task === 'no-such-task')).toMatchObject({ episodes: 1, flagged: 1, mean: 0 });

    const bad = await http(gateway.url, 'POST', '/v1/rollouts', { tasks: [], policy: 'magic', samplesPerTask: 0 });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toMatch(/tasks/);
    expect((await http(gateway.url, 'GET', '/v1/rollouts/rollout-none')).status).toBe(404);
  }, 300_000);
});
