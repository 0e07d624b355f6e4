import Fastify, { type FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { EnvError, type EnvService, noEnvironment, type RolloutService } from '../client';
import {
  ACTION_PARAMS,
  ENV_ACTIONS,
  REWARD_MODES,
  actionSchema,
  budgetSchema,
  createEnvSchema,
  describeIssues,
  type EnvAction,
  type ErrorBody,
} from '../domain/env';
import { rolloutRequestSchema } from '../domain/rollouts';
import { authHeaders, type GatewayAuth, installAuth } from './auth';
import { BODY_LIMIT, errorResponse, remoteFields } from './errors';
import { OpenSet, StepRate } from './limits';
import { idempotencyKeySchema, openApiDocument } from './openapi';
import { registerOpenEnv, type SessionGate } from './openenv';

const CREATE_HINT =
  `Send {"taskId": "<an id from GET /v1/tasks>", "budget"?: {${Object.keys(budgetSchema.shape).join(', ')}} (each optional), ` +
  `"rewardMode"?: ${REWARD_MODES.join(' | ')}}.`;

/** What a step body should have been: the action's params if the action is known, else the actions. */
function stepHint(body: unknown): string {
  const action = typeof body === 'object' && body !== null && 'action' in body ? body.action : undefined;
  if (!ENV_ACTIONS.includes(action as EnvAction)) {
    return `Send {"action": ..., "params": {...}} with action one of ${ENV_ACTIONS.join(', ')}.`;
  }
  const params = Object.entries(ACTION_PARAMS[action as EnvAction].shape).map(([key, schema]) =>
    schema.safeParse(undefined).success ? `${key}?` : key,
  );
  return `${String(action)} takes params {${params.join(', ')}}.`;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, hint: () => string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new EnvError('bad-request', `${describeIssues(result.error)}. ${hint()}`);
  return result.data;
}

function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const result = idempotencyKeySchema.safeParse(header);
  if (!result.success) throw new EnvError('bad-request', result.error.issues.map((i) => i.message).join('; '));
  return result.data;
}

const ROLLOUT_HINT =
  'send {tasks: [task ids], policy: "heuristic"|"openai", samplesPerTask, maxSteps?, concurrency?, rewardMode?, episodeTimeoutS?}';
const noRollout = (id: string) => new EnvError('not-found', `no rollout ${id}: start one with POST /v1/rollouts`);

export type { GatewayAuth } from './auth';

/**
 * The HTTP API over an EnvService: bodies are checked with domain/env.ts's zod schemas here, not by
 * ajv; every route but /healthz and /openapi.json needs an API key (gateway/auth.ts).
 */
/**
 * OpenEnv's clients cannot send headers (openenv-core opens `<base_url>/ws` and nothing more), so
 * the facade also takes the key in its path: `/openenv/key=<key>/<task>/…` is `/openenv/<task>/…`
 * with `Authorization: Bearer <key>`. Such a URL is a secret, like the key.
 */
function keyInOpenEnvPath(request: { url?: string; headers: Record<string, unknown> }): string {
  const url = request.url ?? '/';
  const match = /^\/openenv\/key=([^/?#]+)(\/.*)$/.exec(url);
  if (!match) return url;
  request.headers.authorization = `Bearer ${decodeURIComponent(match[1]!)}`;
  return `/openenv${match[2]}`;
}

export function createGateway({
  envs,
  rollouts,
  auth,
  logger,
}: {
  envs: EnvService;
  rollouts?: RolloutService;
  auth: GatewayAuth;
  logger?: boolean;
}): FastifyInstance {
  const app = Fastify({ logger: logger ?? false, bodyLimit: BODY_LIMIT, rewriteUrl: keyInOpenEnvPath });
  const checkOwner = installAuth(app, {
    auth,
    resources: {
      env: { owner: (id) => envs.owner(id), notFound: noEnvironment },
      rollout: {
        owner: (id) => (rollouts ? rollouts.owner(id) : Promise.reject(noRollout(id))),
        notFound: noRollout,
      },
    },
  });
  const steps = new StepRate();
  const sessions = new OpenSet('sessions', async (id) => !(await envs.get(id)).done, 30);
  const running = new OpenSet(
    'rollout episodes',
    async (id) => (rollouts ? (await rollouts.get(id)).status === 'running' : false),
    60,
  );
  const document = openApiDocument();
  const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );

  // Any body is read as JSON, whatever its Content-Type (curl -d sends a form type). Plain
  // JSON.parse is safe here: the strict schemas refuse keys they do not know, __proto__ included.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(
        new EnvError('bad-request', `the body is not JSON (${(err as Error).message}): send a JSON object`),
        undefined,
      );
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = errorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(status).headers(authHeaders(err)).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: 'not-found',
      message: `no route ${request.method} ${request.url}; the routes are ${routes.join(', ')}`,
    };
    return reply.code(404).send(body);
  });

  // Opening and stepping a session under the key's limits, for the v1 routes and the OpenEnv facade.
  const sessionGate: SessionGate = {
    async create(principal, body) {
      const settle = await sessions.reserve(principal.keyId, 1, principal.limits.sessions);
      let created;
      try {
        created = await envs.create(body, { owner: principal.keyId });
      } finally {
        settle(created?.envId);
      }
      return created;
    },
    async step(principal, envId, action, options) {
      await checkOwner('env', envId, principal);
      steps.take(principal.keyId, principal.limits.stepsPerMinute);
      const result = await envs.step(envId, action, options);
      if (result.done) sessions.close(principal.keyId, envId);
      return result;
    },
    async get(principal, envId) {
      await checkOwner('env', envId, principal);
      return envs.get(envId);
    },
    async close(principal, envId) {
      await checkOwner('env', envId, principal);
      const state = await envs.close(envId);
      sessions.close(principal.keyId, envId);
      return state;
    },
  };

  app.post('/v1/envs', async (request, reply) => {
    const body = parse(createEnvSchema, request.body, () => CREATE_HINT);
    const created = await sessionGate.create(request.principal, body);
    reply.code(201);
    return created;
  });
  app.post<{ Params: { id: string } }>('/v1/envs/:id/step', { config: { owns: 'env' } }, async (request) => {
    const requestId = idempotencyKey(request.headers['idempotency-key']);
    const action = parse(actionSchema, request.body, () => stepHint(request.body));
    return sessionGate.step(request.principal, request.params.id, action, { requestId });
  });
  app.get<{ Params: { id: string } }>('/v1/envs/:id', { config: { owns: 'env' } }, async (request) =>
    envs.get(request.params.id),
  );
  app.delete<{ Params: { id: string } }>('/v1/envs/:id', { config: { owns: 'env' } }, async (request) => {
    const state = await envs.close(request.params.id);
    sessions.close(request.principal.keyId, request.params.id);
    return state;
  });
  app.get('/v1/tasks', async () => ({ tasks: await envs.listTasks() }));
  app.post('/v1/rollouts', async (request, reply) => {
    if (!rollouts) throw new EnvError('not-found', 'this gateway serves no rollouts');
    // No catalogDir from a client: the gateway's catalog is a server setting.
    const input = parse(rolloutRequestSchema, request.body, () => ROLLOUT_HINT);
    const { keyId, scope, limits } = request.principal;
    if (input.policy === 'openai' && !limits.llmRollouts && scope !== 'admin') {
      throw new EnvError(
        'forbidden',
        'this key may not start rollouts with the openai policy (it spends the LLM budget)',
      );
    }
    const episodes = input.tasks.length * input.samplesPerTask;
    const settle = await running.reserve(keyId, episodes, limits.rolloutEpisodes);
    let started;
    try {
      started = await rollouts.start(input, { owner: keyId });
    } finally {
      settle(started?.id);
    }
    reply.code(202);
    return started;
  });
  app.get<{ Params: { id: string } }>('/v1/rollouts/:id', { config: { owns: 'rollout' } }, async (request) => {
    if (!rollouts) throw new EnvError('not-found', 'this gateway serves no rollouts');
    const status = await rollouts.get(request.params.id);
    if (status.status !== 'failed') return status;
    // The same fields as an error body: host paths cut, no UI link.
    const { message, ...fields } = remoteFields({ ...status, message: status.error });
    return { ...status, ...fields, error: message };
  });
  app.get('/openapi.json', { config: { public: true } }, async () => document);
  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));
  registerOpenEnv(app, sessionGate);
  return app;
}
