import Fastify, { type FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { EnvError, type EnvService, type RolloutService } from '../client';
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
import { BODY_LIMIT, errorResponse, remoteFields } from './errors';
import { idempotencyKeySchema, openApiDocument } from './openapi';
import { registerOpenEnv } from './openenv';

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

/** The HTTP API over an EnvService: bodies are checked with domain/env.ts's zod schemas here, not by ajv. */
export function createGateway({
  envs,
  rollouts,
  logger,
}: {
  envs: EnvService;
  rollouts?: RolloutService;
  logger?: boolean;
}): FastifyInstance {
  const app = Fastify({ logger: logger ?? false, bodyLimit: BODY_LIMIT });
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
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: 'not-found',
      message: `no route ${request.method} ${request.url}; the routes are ${routes.join(', ')}`,
    };
    return reply.code(404).send(body);
  });

  app.post('/v1/envs', async (request, reply) => {
    const body = parse(createEnvSchema, request.body, () => CREATE_HINT);
    reply.code(201);
    return envs.create(body);
  });
  app.post<{ Params: { id: string } }>('/v1/envs/:id/step', async (request) => {
    const requestId = idempotencyKey(request.headers['idempotency-key']);
    const action = parse(actionSchema, request.body, () => stepHint(request.body));
    return envs.step(request.params.id, action, { requestId });
  });
  app.get<{ Params: { id: string } }>('/v1/envs/:id', async (request) => envs.get(request.params.id));
  app.delete<{ Params: { id: string } }>('/v1/envs/:id', async (request) => envs.close(request.params.id));
  app.get('/v1/tasks', async () => ({ tasks: await envs.listTasks() }));
  app.post('/v1/rollouts', async (request, reply) => {
    if (!rollouts) throw new EnvError('not-found', 'this gateway serves no rollouts');
    reply.code(202);
    return rollouts.start(request.body);
  });
  app.get<{ Params: { id: string } }>('/v1/rollouts/:id', async (request) => {
    if (!rollouts) throw new EnvError('not-found', 'this gateway serves no rollouts');
    const status = await rollouts.get(request.params.id);
    if (status.status !== 'failed') return status;
    // The same fields as an error body: host paths cut, no UI link.
    const { message, ...fields } = remoteFields({ ...status, message: status.error });
    return { ...status, ...fields, error: message };
  });
  app.get('/openapi.json', async () => document);
  app.get('/healthz', async () => ({ ok: true }));
  registerOpenEnv(app, envs);
  return app;
}
