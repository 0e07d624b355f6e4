import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvError, type EnvService, noEnvironment, type RolloutService } from '../../client';
import { createTemporalEnvService } from '../../client/temporal-envs';
import type { Action, CreateEnvRequest, EnvState, StepResult } from '../../domain/env';
import { createGateway } from '../../gateway/server';
import { TEST_LIMITS, testKey, testKeyRing } from '../helpers/keys';

/**
 * Hostile HTTP clients against the gateway (over in-memory services; tests/hostile/sessions.int
 * does the same against Temporal). Each case says what it tries and what must hold afterwards;
 * every case ends by checking that the service still answers and that nothing reached a session
 * it must not.
 */

const alice = testKey('alice');
const bob = testKey('bob');
const revoked = testKey('revoked');
const admin = testKey('admin', 'admin');

/** Sessions by owner; records every call that reached a session. */
class Sessions implements EnvService {
  owners = new Map<string, string | undefined>();
  reached: string[] = [];
  started: CreateEnvRequest[] = [];
  private n = 0;
  async listTasks() {
    return [{ id: 'iris' }];
  }
  async create(request: CreateEnvRequest, { owner }: { owner?: string } = {}) {
    const envId = `env-iris-${++this.n}`;
    this.owners.set(envId, owner);
    this.started.push(request);
    return { envId, observation: {} as StepResult['observation'] };
  }
  private touch(envId: string) {
    if (!this.owners.has(envId)) throw noEnvironment(envId);
    this.reached.push(envId);
  }
  async step(envId: string, _action: Action): Promise<StepResult> {
    this.touch(envId);
    return { observation: {} as StepResult['observation'], reward: 0, done: false };
  }
  async get(envId: string) {
    this.touch(envId);
    return { envId, done: false } as EnvState;
  }
  async close(envId: string) {
    this.touch(envId);
    return { envId, done: true } as EnvState;
  }
  async owner(envId: string) {
    if (!this.owners.has(envId)) throw noEnvironment(envId);
    return this.owners.get(envId);
  }
}

const rolloutsStarted: unknown[] = [];
const rollouts: RolloutService = {
  async start(input) {
    rolloutsStarted.push(input);
    return { id: `rollout-${rolloutsStarted.length}` };
  },
  async get(id) {
    return { id, status: 'running', progress: { total: 1, done: 0, running: 1 } } as never;
  },
  async run() {
    throw new Error('not over HTTP');
  },
  async owner(id) {
    throw new EnvError('not-found', `no rollout ${id}`);
  },
};

let envs: Sessions;
let app: FastifyInstance;
let alicesEnv: string;
beforeEach(async () => {
  envs = new Sessions();
  rolloutsStarted.length = 0;
  const ring = testKeyRing([alice, bob, admin], { ...TEST_LIMITS, rolloutEpisodes: 8, llmRollouts: false });
  app = createGateway({ envs, rollouts, auth: { keys: ring } });
  alicesEnv = (await call('POST', '/v1/envs', { taskId: 'iris' }, alice.token)).json().envId;
  envs.reached = [];
});
afterEach(async () => {
  // What must hold after every case: the gateway still answers.
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  expect((await call('GET', `/v1/envs/${alicesEnv}`, undefined, alice.token)).statusCode).toBe(200);
  await app.close();
});

function call(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, token?: string | null) {
  return app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

describe('hostile HTTP clients', () => {
  it("another key's session — tries: step, read and close alice's session with bob's key; holds: the same 404 as a missing id, alice's session untouched", async () => {
    const missing = await call('GET', '/v1/envs/env-iris-999', undefined, bob.token);
    for (const [method, url, body] of [
      ['POST', `/v1/envs/${alicesEnv}/step`, { action: 'reset' }],
      ['GET', `/v1/envs/${alicesEnv}`, undefined],
      ['DELETE', `/v1/envs/${alicesEnv}`, undefined],
    ] as const) {
      const res = await call(method, url, body, bob.token);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().message.replace(alicesEnv, 'ID')).toBe(missing.json().message.replace('env-iris-999', 'ID'));
    }
    expect(envs.reached).toEqual([]);
    expect((await call('GET', `/v1/envs/${alicesEnv}`, undefined, admin.token)).statusCode).toBe(200);
  });

  it('no key, a revoked key, a forged key — tries: every route; holds: 401 with a Bearer challenge, nothing reached', async () => {
    for (const token of [null, revoked.token, `anvil_${alice.key.id}_${'A'.repeat(43)}`, 'Basic YWxpY2U6eA==']) {
      for (const [method, url] of [
        ['POST', '/v1/envs'],
        ['GET', `/v1/envs/${alicesEnv}`],
        ['GET', '/v1/tasks'],
        ['POST', '/v1/rollouts'],
      ] as const) {
        const res = await call(method, url, method === 'POST' ? { taskId: 'iris' } : undefined, token);
        expect(res.statusCode, `${token} ${method} ${url}`).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    expect(envs.reached).toEqual([]);
    expect(envs.started).toHaveLength(1); // the one beforeEach opened
  });

  it('path traversal, NUL and Unicode in ids — tries: ids that would name files or other workflows; holds: 404/400, never a file read', async () => {
    for (const id of [
      '..%2F..%2Fetc%2Fpasswd',
      '..',
      '%2Fetc%2Fpasswd',
      'env%00-iris-1',
      'env-ïris-1',
      '%E2%80%AEenv',
      'forge-iris-1',
    ]) {
      const res = await call('GET', `/v1/envs/${id}`, undefined, admin.token);
      expect([400, 404], id).toContain(res.statusCode);
      expect(res.body).not.toMatch(/root:x:0/); // the id may be echoed, never a file
    }
    const nul = await call('POST', '/v1/envs', { taskId: 'iris\u0000../../x' }, alice.token);
    expect(nul.statusCode).toBe(400);
    expect(envs.reached).toEqual([]);
  });

  it('oversized and deeply nested JSON — tries: a 2 MiB body and 200 000 levels of nesting; holds: 413 and 400, the service not called', async () => {
    const big = await call(
      'POST',
      `/v1/envs/${alicesEnv}/step`,
      { action: 'execute_code', params: { code: 'x'.repeat(2 << 20) } },
      alice.token,
    );
    expect(big.statusCode).toBe(413);
    const deep = `{"action":"get_history","params":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const nested = await call('POST', `/v1/envs/${alicesEnv}/step`, deep, alice.token);
    expect(nested.statusCode).toBe(400);
    const deepObject = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    expect((await call('POST', '/v1/envs', deepObject, alice.token)).statusCode).toBe(400);
    expect(envs.reached).toEqual([]);
  });

  it('catalogDir in a body — tries: a rollout graded from a folder the client wrote; holds: 400 naming catalogDir, no rollout started', async () => {
    const body = { tasks: ['iris'], policy: 'heuristic', samplesPerTask: 1, catalogDir: '/tmp/evil-catalog' };
    const res = await call('POST', '/v1/rollouts', body, alice.token);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('catalogDir');
    expect(rolloutsStarted).toEqual([]);
  });

  it('LLM budget — tries: openai episodes and a 1000-episode rollout with a plain key; holds: 403 for the policy, 429 for the size, nothing started', async () => {
    const openai = await call(
      'POST',
      '/v1/rollouts',
      { tasks: ['iris'], policy: 'openai', samplesPerTask: 1 },
      alice.token,
    );
    expect(openai.statusCode).toBe(403);
    const huge = await call(
      'POST',
      '/v1/rollouts',
      { tasks: ['iris'], policy: 'heuristic', samplesPerTask: 1000 },
      alice.token,
    );
    expect(huge.statusCode).toBe(429);
    expect(Number(huge.headers['retry-after'])).toBeGreaterThan(0);
    expect(rolloutsStarted).toEqual([]);
  });
});

describe('huge budgets', () => {
  it('tries: memoryMb 1 000 000 and idleTimeoutS 1e9 against the Temporal-backed service; holds: 400 naming each field and maximum, no workflow started', async () => {
    const started: unknown[] = [];
    const client = { workflow: { start: async (...args: unknown[]) => void started.push(args) } } as unknown as Client;
    const real = createTemporalEnvService({
      client,
      controlQueue: 'q',
      catalogDir: '/srv/catalog',
      defaults: { budget: { steps: 10, wallTimeS: 60, idleTimeoutS: 60 }, rewardMode: 'position' },
      maxBudget: { memoryMb: 16384, idleTimeoutS: 14400, wallTimeS: 86400, cpus: 8 },
    });
    const gateway = createGateway({ envs: real, auth: { keys: testKeyRing([alice]) } });
    const res = await gateway.inject({
      method: 'POST',
      url: '/v1/envs',
      payload: { taskId: 'iris', budget: { memoryMb: 1_000_000, idleTimeoutS: 1e9 } },
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/budget\.memoryMb = 1000000 is above the maximum 16384/);
    expect(res.json().message).toMatch(/budget\.idleTimeoutS = 1000000000 is above the maximum 14400/);
    expect(started).toEqual([]);
    await gateway.close();
  });
});
