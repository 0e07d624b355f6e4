import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemporalEnvService } from '../../client/temporal-envs';
import { taskSummaries } from '../../package/catalog';
import { http, startGateway } from '../helpers/dojo';
import { createTestEnv, type TestEnv } from '../helpers/env';
import { testKey } from '../helpers/keys';
import { publishPreparedIris } from '../helpers/prepared-iris';

/**
 * Hostile clients against the real Dojo (Temporal, the control worker): sessions of five keys side
 * by side, a key over its limits beside another, ids of other workflows, and catalogs that a workflow input names outside the served
 * folders. No code step runs, so no sandbox is needed. bench/gateway-isolation.ts does the same
 * at 50 sessions with steps, and measures the latency a key over its limit costs the others.
 */

describe('hostile clients against the Dojo', () => {
  let t: TestEnv;
  let gateway: { app: FastifyInstance; url: string };
  const keys = Array.from({ length: 5 }, (_, i) => testKey(`trainer-${i}`));
  const admin = testKey('admin', 'admin');
  const noisy = testKey('noisy', 'user', { stepsPerMinute: 5, sessions: 2 });

  beforeAll(async () => {
    t = await createTestEnv();
    await t.startWorker('control');
    publishPreparedIris(t.config.paths.catalog);
    const envs = createTemporalEnvService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: t.config.paths.catalog,
      listTasks: async () => taskSummaries(t.config.paths.catalog),
      defaults: { budget: { steps: 30, wallTimeS: 3600, idleTimeoutS: 600 }, rewardMode: 'position' },
      maxBudget: t.config.env.max,
      stepsPerRun: 2, // sessions continue as new often: ownership must survive it
    });
    gateway = await startGateway(envs, undefined, { keys: [...keys, admin, noisy] });
  }, 300_000);
  afterAll(async () => {
    await gateway?.app.close();
    await t?.close();
  });

  it("another key's session — tries: 10 sessions of 5 keys, each key reading, stepping and closing the others'; holds: only 404s, owners still see theirs, also after the sessions continued as new", async () => {
    const opened = await Promise.all(
      keys.flatMap((key) =>
        [0, 1].map(async () => {
          const res = await http<{ envId: string }>(
            gateway.url,
            'POST',
            '/v1/envs',
            { taskId: 'iris-species' },
            key.token,
          );
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          return { key, envId: res.body.envId };
        }),
      ),
    );
    // Three steps each: every session continues as new at least once.
    for (const { key, envId } of opened) {
      for (let i = 0; i < 3; i++) {
        const res = await http(gateway.url, 'POST', `/v1/envs/${envId}/step`, { action: 'request_info' }, key.token);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }
    // A fresh gateway (no cached owners) reads them from Temporal.
    const fresh = await startGateway(
      createTemporalEnvService({
        client: t.client,
        controlQueue: t.controlQueue,
        catalogDir: t.config.paths.catalog,
        defaults: { budget: { steps: 30, wallTimeS: 3600, idleTimeoutS: 600 }, rewardMode: 'position' },
      }),
      undefined,
      { keys: [...keys, admin] },
    );
    try {
      for (const { envId, key: owner } of opened) {
        for (const key of keys) {
          const res = await http(fresh.url, 'GET', `/v1/envs/${envId}`, undefined, key.token);
          expect(res.status, `${key.key.name} reads ${envId} of ${owner.key.name}`).toBe(key === owner ? 200 : 404);
          if (key === owner) continue;
          const stepped = await http(fresh.url, 'POST', `/v1/envs/${envId}/step`, { action: 'reset' }, key.token);
          const closed = await http(fresh.url, 'DELETE', `/v1/envs/${envId}`, undefined, key.token);
          expect([stepped.status, closed.status]).toEqual([404, 404]);
        }
        expect((await http(fresh.url, 'GET', `/v1/envs/${envId}`, undefined, admin.token)).status).toBe(200);
      }
    } finally {
      await fresh.app.close();
    }
    for (const { key, envId } of opened) {
      const state = await http<{ stepsUsed: number; done: boolean }>(
        gateway.url,
        'GET',
        `/v1/envs/${envId}`,
        undefined,
        key.token,
      );
      expect(state.body).toMatchObject({ stepsUsed: 3, done: false }); // nobody else's step landed
      expect((await http(gateway.url, 'DELETE', `/v1/envs/${envId}`, undefined, key.token)).status).toBe(200);
    }
  });

  it('a key over its limits — tries: a third session past a cap of 2, and 20 steps at once past 5 a minute, while another key steps; holds: 429s with Retry-After for the extra ones only, the other key served, no refused step recorded', async () => {
    const open = () =>
      http<{ envId: string }>(gateway.url, 'POST', '/v1/envs', { taskId: 'iris-species' }, noisy.token);
    const mine = [await open(), await open()];
    expect(mine.map((r) => r.status)).toEqual([201, 201]);
    const third = await open();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const quiet = await http<{ envId: string }>(
      gateway.url,
      'POST',
      '/v1/envs',
      { taskId: 'iris-species' },
      keys[0]!.token,
    );
    expect(quiet.status).toBe(201);

    const stepAs = (token: string, envId: string) =>
      http(gateway.url, 'POST', `/v1/envs/${envId}/step`, { action: 'request_info' }, token);
    const [burst, served] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, (_, i) => stepAs(noisy.token, mine[i % 2]!.body.envId))),
      stepAs(keys[0]!.token, quiet.body.envId),
    ]);
    expect(served.status).toBe(200);
    const ok = burst.filter((r) => r.status === 200).length;
    // 5 tokens at once, one more every 12 s: a burst on a loaded machine may see one refilled.
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThanOrEqual(6);
    const refused = burst.filter((r) => r.status !== 200);
    expect(refused.map((r) => r.status)).toEqual(Array(20 - ok).fill(429));
    expect(refused.every((r) => Number(r.headers.get('retry-after')) >= 1)).toBe(true);

    let recorded = 0;
    for (const { body } of mine) {
      const state = await http<{ stepsUsed: number }>(
        gateway.url,
        'GET',
        `/v1/envs/${body.envId}`,
        undefined,
        noisy.token,
      );
      recorded += state.body.stepsUsed;
      expect((await http(gateway.url, 'DELETE', `/v1/envs/${body.envId}`, undefined, noisy.token)).status).toBe(200);
    }
    expect(recorded).toBe(ok); // a refused step never reached the session
    const again = await open(); // closing freed the cap
    expect(again.status).toBe(201);
    expect((await stepAs(keys[0]!.token, quiet.body.envId)).status).toBe(200);
    await http(gateway.url, 'DELETE', `/v1/envs/${again.body.envId}`, undefined, noisy.token);
    await http(gateway.url, 'DELETE', `/v1/envs/${quiet.body.envId}`, undefined, keys[0]!.token);
  });

  it('ids of other workflows — tries: read a running verify workflow through /v1/envs/:id with an admin key; holds: 404, nothing of it shown', async () => {
    const id = `verify-hostile-${Date.now()}`;
    await t.client.workflow.start('verifyPackage', {
      taskQueue: `${t.config.taskQueuePrefix}-nobody-polls`,
      workflowId: id,
      args: [{ sourceDir: '/srv/secret-package' }],
    });
    try {
      const res = await http(gateway.url, 'GET', `/v1/envs/${id}`, undefined, admin.token);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('secret');
    } finally {
      await t.client.workflow.getHandle(id).terminate();
    }
  });

  it('a catalogDir outside the served folders in a workflow input — tries: a session started straight on Temporal on a catalog the attacker wrote elsewhere, or reached through a symlink out of the home; holds: the session does not open (PathOutsideRoots)', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'anvil-elsewhere-'));
    publishPreparedIris(elsewhere);
    const outside = createTemporalEnvService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: elsewhere,
      defaults: { budget: { steps: 5, wallTimeS: 600, idleTimeoutS: 600 }, rewardMode: 'position' },
    });
    await expect(outside.create({ taskId: 'iris-species' })).rejects.toThrow(/outside the folders Anvil serves/);
    const link = join(t.config.paths.home, 'escape');
    symlinkSync(elsewhere, link);
    const linked = createTemporalEnvService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: link,
      defaults: { budget: { steps: 5, wallTimeS: 600, idleTimeoutS: 600 }, rewardMode: 'position' },
    });
    await expect(linked.create({ taskId: 'iris-species' })).rejects.toThrow(/outside the folders Anvil serves/);
  });

  it('huge budgets — tries: memoryMb 1 000 000 and idleTimeoutS 1e9; holds: 400 naming each field and its maximum', async () => {
    const res = await http<{ message: string }>(gateway.url, 'POST', '/v1/envs', {
      taskId: 'iris-species',
      budget: { memoryMb: 1_000_000, idleTimeoutS: 1e9 },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(`budget.memoryMb = 1000000 is above the maximum ${t.config.env.max.memoryMb}`);
    expect(res.body.message).toContain(
      `budget.idleTimeoutS = 1000000000 is above the maximum ${t.config.env.max.idleTimeoutS}`,
    );
  });
});
