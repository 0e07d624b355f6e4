import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRolloutService } from '../client/rollouts';
import type { RolloutResult } from '../domain/rollouts';
import { waitFor } from './helpers/containers';
import { createTestEnv, type TestEnv } from './helpers/env';
import { publishPreparedIris } from './helpers/prepared-iris';
import { type ScriptedLlm, startScriptedLlm } from './helpers/scripted-llm';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/**
 * The acceptance of issue 19: a model call whose worker dies mid-call is retried on another worker
 * within 60 s. The endpoint is a local scripted server that holds the first policy turn open (a slow
 * model); the retry is answered at once.
 */
describe('an llm worker killed in the middle of a model call', () => {
  let t: TestEnv;
  let llm: ScriptedLlm;
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  /** when each policy-turn request reached the endpoint (ms since the epoch) */
  const arrivals: number[] = [];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    llm = await startScriptedLlm(async (request) => {
      if (!request.tools) return { content: '{}' };
      arrivals.push(Date.now());
      const asked = request.messages.filter((m) => m.role === 'assistant').length;
      // The first turn's first attempt waits until the test ends: only a retry can answer it.
      if (asked === 0 && arrivals.length === 1) await held;
      if (asked === 0) return { toolCalls: [{ id: 'o', name: 'request_info', arguments: '{"kind":"overview"}' }] };
      return { content: 'I have read enough.' };
    });
    t = await createTestEnv({
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'test-key',
      ANVIL_MODEL: 'slow-model',
      ANVIL_LLM_ENDPOINTS: 'http://127.0.0.1:*/v1',
    });
    await t.startWorker('control');
    publishPreparedIris(t.config.paths.catalog);
    workers.push(await startWorkerProcess('llm', t.env), await startWorkerProcess('llm', t.env));
  }, 120_000);
  afterAll(async () => {
    release();
    for (const w of workers) w.child.kill('SIGKILL');
    await t?.close();
    await llm?.close();
  });

  it('has the call retried on the other worker within 60 s, and the episode completes', async () => {
    const rollouts = createRolloutService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: t.config.paths.catalog,
      endpoints: { defaultUrl: t.config.llm.baseUrl, allowed: ['http://127.0.0.1:*/v1'] },
    });
    const { id } = await rollouts.start({ tasks: ['iris-species'], samplesPerTask: 1, maxSteps: 4, policy: 'openai' });
    const episodeId = `${id}--iris-species--0`;

    const holder = await waitFor('the slow model call, started by one of the two llm workers', async () => {
      if (arrivals.length === 0) return undefined;
      const described = await t.client.workflow
        .getHandle(episodeId)
        .describe()
        .catch(() => undefined);
      const call = described?.raw.pendingActivities?.find((a) => a.activityType?.name === 'policyTurn');
      if (call?.state !== STARTED) return undefined;
      return workers.find((w) => call.lastWorkerIdentity?.startsWith(`${w.child.pid}@`));
    });
    const survivor = workers.find((w) => w !== holder)!;
    holder.child.kill('SIGKILL');
    await holder.exited;
    const killedAt = Date.now();

    const result = (await t.client.workflow.getHandle(id).result()) as RolloutResult;
    expect(result.episodes.map((e) => [e.status, e.steps])).toEqual([['completed', 1]]);

    // Turn 1 twice (the held attempt, its retry), then turn 2.
    expect(arrivals).toHaveLength(3);
    const retryS = (arrivals[1]! - killedAt) / 1000;
    console.log(`model call retried ${retryS.toFixed(1)} s after its worker was killed`);
    expect(retryS).toBeGreaterThan(0);
    expect(retryS).toBeLessThan(60);

    const history = await t.client.workflow.getHandle(episodeId).fetchHistory();
    const turns = history.events!.flatMap((e) => e.activityTaskStartedEventAttributes ?? []);
    const first = turns.find((a) => a.attempt! >= 2)!;
    expect(first.identity?.startsWith(`${survivor.child.pid}@`)).toBe(true);
  }, 300_000);
});
