import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ENV_ACTIONS,
  MAX_CODE_CHARS,
  type Action,
  type CreateEnvRequest,
  type EnvState,
  type Observation,
  type StepResult,
  type TaskSummary,
} from '../domain/env';
import { EnvError, type EnvService, noEnvironment } from '../client';
import { testKey, testKeyRing } from './helpers/keys';
import { createGateway } from '../gateway/server';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { FAILURE_KINDS } from '../domain/failures';

/**
 * The HTTP layer alone: routing, validation, status codes and the OpenAPI document, over an
 * in-memory stand-in for the Temporal-backed service (tested end to end elsewhere).
 */

const observation = (step: number): Observation => ({
  step,
  action: step === 0 ? 'open' : 'request_info',
  status: 'ok',
  message: 'ok',
  budget: { stepsUsed: step, stepsLeft: 10 - step, wallTimeLeftS: 600 },
  done: false,
});

const state = (envId: string, done: boolean): EnvState => ({
  envId,
  taskId: 'iris',
  rewardMode: 'position',
  budget: { steps: 10, wallTimeS: 600, idleTimeoutS: 60 },
  stepsUsed: 0,
  startedAt: '2025-01-01T00:00:00.000Z',
  done,
  ...(done && { doneReason: 'closed' as const }),
  trajectory: `file:///runs/${envId}.jsonl`,
});

/** Records every call; throws `failWith` from every method when it is set. */
class FakeEnvs implements EnvService {
  calls: { method: keyof EnvService; args: unknown[] }[] = [];
  failWith: Error | undefined;

  private record(method: keyof EnvService, ...args: unknown[]) {
    this.calls.push({ method, args });
    if (this.failWith) throw this.failWith;
  }
  async listTasks(): Promise<TaskSummary[]> {
    this.record('listTasks');
    return [{ id: 'iris', title: 'Iris species', taskType: 'classification', metric: 'accuracy', synthetic: false }];
  }
  /** the key recorded as each session's owner; ids not here belong to `defaultOwner` */
  owners = new Map<string, string | undefined>();
  defaultOwner: string | undefined = user.key.id;
  async create(request: CreateEnvRequest, options?: { owner?: string }) {
    this.record('create', request);
    this.owners.set('env-1', options?.owner);
    return { envId: 'env-1', observation: observation(0) };
  }
  async step(envId: string, action: Action, options?: { requestId?: string }): Promise<StepResult> {
    this.record('step', envId, action, options);
    return { observation: observation(1), reward: 0.25, done: false };
  }
  async get(envId: string) {
    this.record('get', envId);
    return state(envId, false);
  }
  async close(envId: string) {
    this.record('close', envId);
    return state(envId, true);
  }
  async owner(envId: string) {
    if (envId.startsWith('forge-')) throw noEnvironment(envId);
    return this.owners.has(envId) ? this.owners.get(envId) : this.defaultOwner;
  }
}

const user = testKey('user');
const other = testKey('other');
const admin = testKey('admin', 'admin');

let envs: FakeEnvs;
let app: FastifyInstance;
beforeEach(() => {
  envs = new FakeEnvs();
  app = createGateway({ envs, auth: { keys: testKeyRing([user, other, admin]) } });
});

/** A request with `user`'s key unless `token` names another (null: none). */
const inject = (options: InjectOptions, token: string | null = user.token) =>
  app.inject({
    ...options,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.headers ?? {}) },
  });
afterEach(() => app.close());

const step = (payload: unknown, headers: Record<string, string> = {}) =>
  inject({ method: 'POST', url: '/v1/envs/env-1/step', payload: payload as object, headers });

describe('routes', () => {
  it('POST /v1/envs creates a session with the parsed request and answers 201', async () => {
    const res = await inject({
      method: 'POST',
      url: '/v1/envs',
      payload: { taskId: 'iris', budget: { steps: 5 }, rewardMode: 'medal' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ envId: 'env-1', observation: observation(0) });
    expect(envs.calls).toEqual([
      { method: 'create', args: [{ taskId: 'iris', budget: { steps: 5 }, rewardMode: 'medal' }] },
    ]);
  });

  it('POST /v1/envs/:id/step passes the id and the parsed action, and answers the step result', async () => {
    const res = await step({ action: 'execute_code', params: { code: 'print(1)' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ observation: observation(1), reward: 0.25, done: false });
    expect(envs.calls).toEqual([
      {
        method: 'step',
        args: ['env-1', { action: 'execute_code', params: { code: 'print(1)' } }, { requestId: undefined }],
      },
    ]);
  });

  it('fills in the defaults: request_info with no params asks for the overview', async () => {
    expect((await step({ action: 'request_info' })).statusCode).toBe(200);
    expect((await step({ action: 'get_history' })).statusCode).toBe(200);
    expect(envs.calls.map((c) => c.args[1])).toEqual([
      { action: 'request_info', params: { kind: 'overview' } },
      { action: 'get_history', params: {} },
    ]);
  });

  it('GET and DELETE /v1/envs/:id answer the state from get and close', async () => {
    const got = await inject({ method: 'GET', url: '/v1/envs/env-7' });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(state('env-7', false));
    const closed = await inject({ method: 'DELETE', url: '/v1/envs/env-7' });
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({ envId: 'env-7', done: true, doneReason: 'closed' });
    expect(envs.calls).toEqual([
      { method: 'get', args: ['env-7'] },
      { method: 'close', args: ['env-7'] },
    ]);
  });

  it('GET /v1/tasks and /healthz', async () => {
    const tasks = await inject({ method: 'GET', url: '/v1/tasks' });
    expect(tasks.json()).toEqual({ tasks: [expect.objectContaining({ id: 'iris', metric: 'accuracy' })] });
    const health = await inject({ method: 'GET', url: '/healthz' });
    expect([health.statusCode, health.json()]).toEqual([200, { ok: true }]);
  });

  it('an unknown route is a 404 that lists the routes', async () => {
    const res = await inject({ method: 'POST', url: '/v1/env' });
    expect(res.statusCode).toBe(404);
    const body = res.json();
    expect(body.error).toBe('not-found');
    expect(body.message).toContain('POST /v1/env');
    for (const route of [
      'POST /v1/envs',
      'POST /v1/envs/{id}/step',
      'GET /v1/envs/{id}',
      'DELETE /v1/envs/{id}',
      'GET /v1/tasks',
    ]) {
      expect(body.message).toContain(route);
    }
  });
});

describe('validation: a 400 that names the problem, and the service is not called', () => {
  const oversized = 'x'.repeat(MAX_CODE_CHARS + 1);
  it.each([
    ['a missing action', { params: { code: 'print(1)' } }, ['action', ...ENV_ACTIONS]],
    ['an unknown action', { action: 'run_code', params: { code: 'print(1)' } }, ['action', ...ENV_ACTIONS]],
    ['a body that is not an object', [1, 2], ['expected object']],
    ['a missing code', { action: 'execute_code', params: {} }, ['params.code', 'execute_code takes params {code}']],
    ['missing params for validate_code', { action: 'validate_code' }, ['params', 'validate_code takes params {code}']],
    [
      'a param of the wrong type',
      { action: 'get_history', params: { last: '3' } },
      ['params.last', 'expected number', 'get_history takes params {last?}'],
    ],
    [
      'an unknown info kind',
      { action: 'request_info', params: { kind: 'everything' } },
      ['params.kind', 'overview', 'sample_submission'],
    ],
    [
      'a misspelt param key',
      { action: 'request_info', params: { knd: 'data' } },
      ['params', '"knd"', 'request_info takes params {kind?}'],
    ],
    [
      'code over the cap',
      { action: 'validate_code', params: { code: oversized } },
      ['params.code', `${MAX_CODE_CHARS / 1024} Ki`],
    ],
  ])('step with %s', async (_case, payload, expected) => {
    const res = await step(payload);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('bad-request');
    for (const text of expected) expect(body.message).toContain(text);
    expect(envs.calls).toEqual([]);
  });

  it('a body that is not JSON', async () => {
    const res = await inject({
      method: 'POST',
      url: '/v1/envs/env-1/step',
      payload: '{"action": "reset",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad-request', message: expect.stringContaining('not JSON') });
    expect(envs.calls).toEqual([]);
  });

  it('an empty body', async () => {
    const res = await inject({ method: 'POST', url: '/v1/envs', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^\(body\): .*expected object.*Send \{"taskId"/);
    expect(envs.calls).toEqual([]);
  });

  it('JSON sent with a form Content-Type (curl -d) is still read as JSON', async () => {
    const res = await inject({
      method: 'POST',
      url: '/v1/envs/env-1/step',
      payload: '{"action":"reset"}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(envs.calls[0]?.args[1]).toEqual({ action: 'reset', params: {} });
  });

  it('a body over 1 MiB is a 413', async () => {
    const res = await step({ action: 'execute_code', params: { code: 'x'.repeat(1024 * 1024) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'too-large', message: expect.stringContaining('1 MiB') });
    expect(envs.calls).toEqual([]);
  });

  it.each([
    ['an invalid task id', { taskId: 'Iris!' }, ['taskId', 'GET /v1/tasks']],
    ['a misspelt budget key', { taskId: 'iris', budget: { step: 5 } }, ['budget', '"step"']],
    ['an unknown reward mode', { taskId: 'iris', rewardMode: 'elo' }, ['rewardMode', 'position']],
  ])('create with %s', async (_case, payload, expected) => {
    const res = await inject({ method: 'POST', url: '/v1/envs', payload });
    expect(res.statusCode).toBe(400);
    for (const text of expected) expect(res.json().message).toContain(text);
    expect(envs.calls).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  it('is passed to the service as the requestId', async () => {
    const res = await step({ action: 'reset' }, { 'idempotency-key': 'run-7:step-3_a.b' });
    expect(res.statusCode).toBe(200);
    expect(envs.calls[0]?.args[2]).toEqual({ requestId: 'run-7:step-3_a.b' });
  });

  it.each([
    ['with a space', 'two words'],
    ['with a slash', 'a/b'],
    ['over 200 characters', 'k'.repeat(201)],
  ])('a key %s is a 400 and the service is not called', async (_case, key) => {
    const res = await step({ action: 'reset' }, { 'idempotency-key': key });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad-request', message: expect.stringContaining('Idempotency-Key') });
    expect(envs.calls).toEqual([]);
  });
});

describe("the service's errors", () => {
  it.each([
    ['bad-request', 400],
    ['unknown-task', 404],
    ['not-found', 404],
    ['ended', 409],
  ] as const)('EnvError %s is a %i with its kind and message', async (kind, status) => {
    envs.failWith = new EnvError(kind, `because ${kind}`);
    const res = await step({ action: 'reset' });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({
      error: kind,
      message: `because ${kind}`,
      type: `Env:${kind}`,
      class: 'input',
      where: [],
      hint: FAILURE_KINDS[`Env:${kind}`]!.hint,
    });
  });

  it('a workflow failure answers with its root cause, by class, with host paths cut and no stack', async () => {
    const root = ApplicationFailure.nonRetryable(
      '/srv/anvil/catalog/iris/task.json does not match anvil.task/v1',
      'BadTask',
    );
    const activity = new ActivityFailure('failed', 'openTask', '1', RetryState.NON_RETRYABLE_FAILURE, 'w', root);
    envs.failWith = new WorkflowFailedError('Workflow execution failed', activity, RetryState.NON_RETRYABLE_FAILURE);
    const res = await step({ action: 'reset' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'bad-request',
      message: '…/task.json does not match anvil.task/v1',
      type: 'BadTask',
      class: 'input',
      where: ['openTask'],
      hint: FAILURE_KINDS.BadTask!.hint,
    });
    expect(res.body).not.toContain('/srv/anvil');
    expect(res.body).not.toContain('at ');
  });

  it('an unreachable engine is a 503 "unavailable"; any other error a 500 "internal"', async () => {
    envs.failWith = new Error('connect ECONNREFUSED 127.0.0.1:7233');
    const down = await inject({ method: 'GET', url: '/v1/tasks' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ error: 'unavailable', type: 'Unreachable', class: 'infrastructure' });
    envs.failWith = new Error('something broke in /opt/anvil/lib/x.js');
    const res = await inject({ method: 'GET', url: '/v1/tasks' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: 'internal',
      message: 'something broke in …/x.js',
      type: 'Error',
      class: 'failed',
      where: [],
    });
  });
});

describe('GET /openapi.json', () => {
  type Doc = {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, JsonSchema> };
  };
  type Operation = {
    requestBody?: { content: Record<string, { schema: JsonSchema }> };
    responses: Record<string, unknown>;
  };
  type JsonSchema = { $ref?: string; oneOf?: JsonSchema[]; properties?: Record<string, JsonSchema>; const?: unknown };

  const fetchDoc = async () => {
    const res = await inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    return res.json<Doc>();
  };
  const resolve = (doc: Doc, schema: JsonSchema | undefined) =>
    schema?.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;

  it('is OpenAPI 3.1 with every route, its body and its error responses', async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.fromEntries(Object.entries(doc.paths).map(([path, ops]) => [path, Object.keys(ops).sort()]))).toEqual(
      {
        '/v1/envs': ['post'],
        '/v1/envs/{id}/step': ['post'],
        '/v1/envs/{id}': ['delete', 'get'],
        '/v1/tasks': ['get'],
        '/v1/rollouts': ['post'],
        '/v1/rollouts/{id}': ['get'],
        '/openapi.json': ['get'],
        '/healthz': ['get'],
      },
    );
    const create = doc.paths['/v1/envs']!.post!;
    expect(resolve(doc, create.requestBody?.content['application/json']?.schema)?.properties).toHaveProperty('taskId');
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '404']));
    expect(Object.keys(doc.paths['/v1/envs/{id}/step']!.post!.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '409']),
    );
    expect(Object.keys(doc.paths['/v1/envs/{id}']!.get!.responses)).toEqual(expect.arrayContaining(['200', '404']));
  });

  it('lists all six actions in the step request schema', async () => {
    const doc = await fetchDoc();
    const body = resolve(doc, doc.paths['/v1/envs/{id}/step']!.post!.requestBody?.content['application/json']?.schema);
    expect(body?.oneOf?.map((s) => s.properties?.action?.const)).toEqual([
      'request_info',
      'validate_code',
      'execute_code',
      'get_history',
      'reset',
      'select_submission',
    ]);
  });

  it('every $ref points at a schema in components', async () => {
    const doc = await fetchDoc();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(doc.components.schemas, name).toHaveProperty(name);
  });

  it('every documented route is served', async () => {
    const doc = await fetchDoc();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const res = await inject({
          method: method.toUpperCase() as 'GET',
          url: path.replace('{id}', 'env-1'),
          payload: method === 'post' ? {} : undefined,
        });
        expect(res.json().message ?? '', `${method} ${path}`).not.toMatch(/^no route/);
      }
    }
  });
});

describe('API keys and ownership', () => {
  it('a request without a key, or with an unknown or malformed one, is a 401 and the service is not called', async () => {
    const fake = testKey('not in the ring');
    for (const token of [null, fake.token, 'anvil_zzzzzzzz_short', `${user.token}x`]) {
      const res = await inject({ method: 'GET', url: '/v1/envs/env-1' }, token);
      expect(res.statusCode, String(token)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json().error).toBe('unauthorized');
    }
    expect(envs.calls).toEqual([]);
    // Liveness and the contract need no key.
    expect((await inject({ method: 'GET', url: '/healthz' }, null)).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/openapi.json' }, null)).statusCode).toBe(200);
  });

  it("another key's session is the same 404 as a session that does not exist; an admin key sees it", async () => {
    envs.defaultOwner = other.key.id;
    const theirs = await inject({ method: 'POST', url: '/v1/envs/env-9/step', payload: { action: 'reset' } });
    const missing = await inject({ method: 'GET', url: '/v1/envs/forge-iris-1' });
    expect([theirs.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect(theirs.json()).toMatchObject({
      error: 'not-found',
      message: 'no environment env-9: create one with POST /v1/envs',
    });
    expect((await inject({ method: 'DELETE', url: '/v1/envs/env-9' })).statusCode).toBe(404);
    expect(envs.calls).toEqual([]);
    expect((await inject({ method: 'GET', url: '/v1/envs/env-9' }, admin.token)).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/v1/envs/env-9' }, other.token)).statusCode).toBe(200);
    // Only sessions are reachable by id, for admins too.
    expect((await inject({ method: 'GET', url: '/v1/envs/forge-iris-1' }, admin.token)).statusCode).toBe(404);
  });

  it('a session is owned by the key that opened it', async () => {
    envs.defaultOwner = undefined;
    expect((await inject({ method: 'POST', url: '/v1/envs', payload: { taskId: 'iris' } })).statusCode).toBe(201);
    expect(envs.owners.get('env-1')).toBe(user.key.id);
    expect((await inject({ method: 'GET', url: '/v1/envs/env-1' })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/v1/envs/env-1' }, other.token)).statusCode).toBe(404);
  });

  it('a key over its steps per minute gets 429s with Retry-After; other keys go on', async () => {
    const slow = testKey('slow', 'user', { stepsPerMinute: 3 });
    await app.close();
    app = createGateway({ envs, auth: { keys: testKeyRing([slow, user]) } });
    envs.defaultOwner = slow.key.id;
    const asSlow = { authorization: `Bearer ${slow.token}` };
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await step({ action: 'reset' }, asSlow)).statusCode);
    expect(codes).toEqual([200, 200, 200]);
    const limited = await step({ action: 'reset' }, asSlow);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json().error).toBe('too-many-requests');
    envs.owners.set('env-2', user.key.id);
    const theirs = await inject({ method: 'POST', url: '/v1/envs/env-2/step', payload: { action: 'reset' } });
    expect(theirs.statusCode).toBe(200);
  });

  it('a key at its concurrent sessions gets a 429 until one of them ends', async () => {
    const one = testKey('one', 'user', { sessions: 1 });
    await app.close();
    app = createGateway({ envs, auth: { keys: testKeyRing([one]) } });
    const open = () => inject({ method: 'POST', url: '/v1/envs', payload: { taskId: 'iris' } }, one.token);
    expect((await open()).statusCode).toBe(201);
    const second = await open();
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBeDefined();
    expect((await inject({ method: 'DELETE', url: '/v1/envs/env-1' }, one.token)).statusCode).toBe(200);
    expect((await open()).statusCode).toBe(201);
  });

  it('opens hammered past the cap are 429s that cost the engine one look at the open sessions, not one each', async () => {
    const one = testKey('one', 'user', { sessions: 1 });
    await app.close();
    app = createGateway({ envs, auth: { keys: testKeyRing([one, user]) } });
    const open = (token: string) => inject({ method: 'POST', url: '/v1/envs', payload: { taskId: 'iris' } }, token);
    expect((await open(one.token)).statusCode).toBe(201);
    const refused = await Promise.all(Array.from({ length: 20 }, () => open(one.token)));
    expect(refused.map((r) => r.statusCode)).toEqual(Array(20).fill(429));
    expect(refused.every((r) => Number(r.headers['retry-after']) >= 1)).toBe(true);
    expect(envs.calls.filter((c) => c.method === 'get')).toHaveLength(1);
    expect((await open(user.token)).statusCode).toBe(201); // another key is served meanwhile
  });

  it('a route that takes an id must say what it names, or the gateway refuses to start', () => {
    const gateway = createGateway({ envs, auth: { keys: testKeyRing([user]) } });
    expect(() => gateway.get('/v1/things/:id', async () => ({}))).toThrow(/takes an id .* config: \{owns/);
    void gateway.close();
  });
});

describe('confined inputs', () => {
  it('a rollout naming a catalogDir is a 400: the catalog is a server setting', async () => {
    const started: unknown[] = [];
    const rollouts = {
      start: async (input: unknown) => (started.push(input), { id: 'rollout-1' }),
      get: async () => ({ id: 'rollout-1', status: 'running' as const, progress: { total: 1, done: 0, running: 0 } }),
      run: async () => {
        throw new Error('unused');
      },
      owner: async () => user.key.id,
    };
    await app.close();
    app = createGateway({ envs, rollouts, auth: { keys: testKeyRing([user]) } });
    const body = { tasks: ['iris'], policy: 'heuristic', samplesPerTask: 1 };
    const res = await inject({ method: 'POST', url: '/v1/rollouts', payload: { ...body, catalogDir: '/tmp/mine' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('catalogDir');
    expect(started).toEqual([]);
    expect((await inject({ method: 'POST', url: '/v1/rollouts', payload: body })).statusCode).toBe(202);
  });
});
