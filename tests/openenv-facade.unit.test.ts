import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvError, type EnvService } from '../client';
import type { Action, CreateEnvRequest, EnvState, Observation, StepResult } from '../domain/env';
import { createGateway } from '../gateway/server';
import { testKey, testKeyRing } from './helpers/keys';

/** The OpenEnv facade's protocol over an in-memory Dojo (the openenv-core client plays a real one in python-client.int). */

const observation = (step: number, done = false): Observation => ({
  step,
  action: step === 0 ? 'open' : 'request_info',
  status: 'ok',
  message: 'ok',
  budget: { stepsUsed: step, stepsLeft: 2 - step, wallTimeLeftS: 600 },
  done,
});

class TinyDojo implements EnvService {
  created: CreateEnvRequest[] = [];
  closed: string[] = [];
  steps = new Map<string, number>();
  owners = new Map<string, string | undefined>();
  async listTasks() {
    return [];
  }
  async create(request: CreateEnvRequest, options?: { owner?: string }) {
    if (request.taskId === 'nope') throw new EnvError('unknown-task', 'no task nope');
    this.created.push(request);
    const envId = `env-${this.created.length}`;
    this.owners.set(envId, options?.owner);
    this.steps.set(envId, 0);
    return { envId, observation: observation(0) };
  }
  async step(envId: string, _action: Action): Promise<StepResult> {
    const n = this.steps.get(envId)! + 1;
    this.steps.set(envId, n);
    return { observation: observation(n, n >= 2), reward: n / 4, done: n >= 2 };
  }
  async get(envId: string): Promise<EnvState> {
    return {
      envId,
      taskId: 'iris',
      rewardMode: 'position',
      budget: { steps: 2, wallTimeS: 600, idleTimeoutS: 60 },
      stepsUsed: this.steps.get(envId) ?? 0,
      startedAt: '2025-01-01T00:00:00.000Z',
      done: false,
      trajectory: 'x.jsonl',
    };
  }
  async close(envId: string) {
    this.closed.push(envId);
    return this.get(envId);
  }
  async owner(envId: string) {
    if (!this.owners.has(envId)) throw new EnvError('not-found', `no environment ${envId}`);
    return this.owners.get(envId);
  }
}

const user = testKey('user');
const other = testKey('other');
const as = (key: { token: string }) => ({ authorization: `Bearer ${key.token}` });

let dojo: TinyDojo;
let app: FastifyInstance;
beforeEach(async () => {
  dojo = new TinyDojo();
  app = createGateway({ envs: dojo, auth: { keys: testKeyRing([user, other]) } });
  await app.ready();
});
afterEach(() => app.close());

const INFO = { action: 'request_info', params: { kind: 'overview' } };

describe('the OpenEnv facade', () => {
  it('over HTTP: health, reset, step by episode_id, state, in the StepResult shape', async () => {
    expect((await app.inject({ method: 'GET', url: '/openenv/iris/health', headers: as(user) })).json()).toEqual({
      status: 'healthy',
    });
    const reset = (
      await app.inject({
        method: 'POST',
        url: '/openenv/iris/reset',
        headers: as(user),
        payload: { budget: { steps: 2 } },
      })
    ).json();
    expect(reset).toMatchObject({ reward: 0, done: false, observation: { episode_id: 'env-1', step: 0 } });
    expect(dojo.created).toEqual([{ taskId: 'iris', budget: { steps: 2 } }]);
    const step = await app.inject({
      method: 'POST',
      url: '/openenv/iris/step',
      headers: as(user),
      payload: { episode_id: 'env-1', action: INFO },
    });
    expect(step.json()).toMatchObject({ reward: 0.25, done: false, observation: { step: 1 } });
    const state = (
      await app.inject({ method: 'GET', url: '/openenv/iris/state?episode_id=env-1', headers: as(user) })
    ).json();
    expect(state).toMatchObject({ episode_id: 'env-1', step_count: 1 });
    const bad = await app.inject({
      method: 'POST',
      url: '/openenv/iris/step',
      headers: as(user),
      payload: { episode_id: 'env-1', action: { action: 'fly' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/an action is \{"action"/);
  });

  it('needs a key, and another key gets 404 for a session it did not open', async () => {
    expect((await app.inject({ method: 'POST', url: '/openenv/iris/reset', payload: {} })).statusCode).toBe(401);
    await app.inject({ method: 'POST', url: '/openenv/iris/reset', headers: as(user), payload: {} });
    const stolen = await app.inject({
      method: 'POST',
      url: '/openenv/iris/step',
      headers: as(other),
      payload: { episode_id: 'env-1', action: INFO },
    });
    expect(stolen.statusCode).toBe(404);
    const peek = await app.inject({ method: 'GET', url: '/openenv/iris/state?episode_id=env-1', headers: as(other) });
    expect(peek.statusCode).toBe(404);
    expect(dojo.steps.get('env-1')).toBe(0);
  });

  it('over a WebSocket: one session per connection, answered in order, closed with the connection', async () => {
    const ws = await app.injectWS('/openenv/iris/ws', { headers: as(user) });
    const replies: { type: string; data: Record<string, unknown> }[] = [];
    const got = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (replies.length >= n ? resolve() : setTimeout(check, 5));
        check();
      });
    ws.on('message', (raw) => replies.push(JSON.parse(raw.toString())));
    ws.send(JSON.stringify({ type: 'step', data: INFO }));
    ws.send(JSON.stringify({ type: 'reset', data: {} }));
    ws.send(JSON.stringify({ type: 'step', data: INFO }));
    ws.send(JSON.stringify({ type: 'step', data: INFO }));
    ws.send(JSON.stringify({ type: 'state' }));
    ws.send(JSON.stringify({ type: 'step', data: { action: 'fly' } }));
    await got(6);
    expect(replies.map((r) => r.type)).toEqual([
      'error',
      'observation',
      'observation',
      'observation',
      'state',
      'error',
    ]);
    expect(replies[0]!.data.code).toBe('SESSION_ERROR');
    expect(replies.slice(1, 4).map((r) => [r.data.reward, r.data.done])).toEqual([
      [0, false],
      [0.25, false],
      [0.5, true],
    ]);
    expect(replies[4]!.data).toMatchObject({ episode_id: 'env-1', step_count: 2 });
    expect(replies[5]!.data.code).toBe('VALIDATION_ERROR');
    ws.terminate();
    for (let i = 0; i < 100 && dojo.closed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(dojo.closed).toEqual(['env-1']);
  });
});
