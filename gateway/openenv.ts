import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { EnvError } from '../client';
import type { Principal } from '../domain/api-keys';
import {
  type Action,
  actionSchema,
  type CreatedEnv,
  type CreateEnvRequest,
  createEnvSchema,
  describeIssues,
  type EnvState,
  type Observation,
  type StepResult,
} from '../domain/env';
import { errorResponse } from './errors';

/**
 * An OpenEnv-compatible facade over the Dojo, one per task at `/openenv/<task-id>`, so trainers
 * that speak OpenEnv (TRL, torchforge, verifiers) play Anvil tasks unchanged: `GET /health`,
 * `GET /schema`, `POST /reset`, `POST /step`, `GET /state`, and `/ws`, where one WebSocket
 * connection is one session (`{"type": "reset" | "step" | "state" | "close", "data"}` in,
 * `{"type": "observation" | "state" | "error", "data"}` out). Over plain HTTP a session is named
 * by the `episode_id` that reset returned. An action is Anvil's `{"action", "params"}`.
 */

/** Sessions as a key may use them: owned by the key that opened them, within its limits (gateway/server.ts). */
export interface SessionGate {
  create(principal: Principal, request: CreateEnvRequest): Promise<CreatedEnv>;
  step(principal: Principal, envId: string, action: Action, options?: { requestId?: string }): Promise<StepResult>;
  get(principal: Principal, envId: string): Promise<EnvState>;
  close(principal: Principal, envId: string): Promise<EnvState>;
}

/** OpenEnv's StepResult: the observation (without reward and done), its reward, and done. */
function stepResult(envId: string, observation: Observation, reward: number) {
  return { observation: { ...observation, episode_id: envId }, reward, done: observation.done };
}

/** OpenEnv's State (episode_id, step_count) with Anvil's session state beside it. */
function stateOf(state: EnvState) {
  return { episode_id: state.envId, step_count: state.stepsUsed, ...state };
}

/** A reset's data as a session request: Anvil's `budget` and `rewardMode` are read; OpenEnv's `seed` and `episode_id` are not used. */
function resetRequest(task: string, data: unknown) {
  const body = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const parsed = createEnvSchema.safeParse({
    taskId: task,
    ...(body.budget !== undefined && { budget: body.budget }),
    ...(body.rewardMode !== undefined && { rewardMode: body.rewardMode }),
  });
  if (!parsed.success) throw new EnvError('bad-request', describeIssues(parsed.error));
  return parsed.data;
}

function actionOf(data: unknown) {
  const parsed = actionSchema.safeParse(data);
  if (!parsed.success)
    throw new EnvError(
      'bad-request',
      `${describeIssues(parsed.error)}: an action is {"action": "request_info"|"validate_code"|"execute_code"|"get_history"|"reset", "params": {...}}`,
    );
  return parsed.data;
}

const routes =
  (envs: SessionGate): FastifyPluginAsync =>
  async (app) => {
    const catalogTask = { config: { catalogTask: true } };
    app.get('/openenv/:task/health', catalogTask, async () => ({ status: 'healthy' }));
    app.get<{ Params: { task: string } }>('/openenv/:task/metadata', catalogTask, async (request) => ({
      name: request.params.task,
      description: `Anvil task ${request.params.task}: an ML-engineering task as a Gym-style environment`,
    }));
    app.get('/openenv/:task/schema', catalogTask, async () => ({
      action: { $ref: '/openapi.json#/components/schemas/Action' },
      observation: { $ref: '/openapi.json#/components/schemas/Observation' },
      state: { $ref: '/openapi.json#/components/schemas/EnvState' },
    }));
    app.post<{ Params: { task: string } }>('/openenv/:task/reset', catalogTask, async (request) => {
      const created = await envs.create(request.principal, resetRequest(request.params.task, request.body));
      return stepResult(created.envId, created.observation, 0);
    });
    app.post<{ Params: { task: string } }>('/openenv/:task/step', catalogTask, async (request) => {
      const body = (request.body ?? {}) as { action?: unknown; episode_id?: unknown };
      if (typeof body.episode_id !== 'string')
        throw new EnvError('bad-request', 'send {"action": {...}, "episode_id": "<the id reset returned>"}');
      const result = await envs.step(request.principal, body.episode_id, actionOf(body.action));
      return stepResult(body.episode_id, result.observation, result.reward);
    });
    app.get<{ Querystring: { episode_id?: string } }>('/openenv/:task/state', catalogTask, async (request) => {
      if (!request.query.episode_id) throw new EnvError('bad-request', 'pass ?episode_id=<the id reset returned>');
      return stateOf(await envs.get(request.principal, request.query.episode_id));
    });
    app.get<{ Params: { task: string } }>(
      '/openenv/:task/ws',
      { websocket: true, config: { catalogTask: true } },
      (socket, request) => session(socket, request.params.task, envs, request.principal),
    );
  };

/** One WebSocket connection: one session at a time, closed with the connection. */
function session(socket: WebSocket, task: string, envs: SessionGate, principal: Principal): void {
  let envId: string | undefined;
  let queue = Promise.resolve();
  const send = (type: string, data: unknown) => socket.send(JSON.stringify({ type, data }));
  const handle = async (raw: RawData) => {
    let message: { type?: unknown; data?: unknown };
    try {
      message = JSON.parse(raw.toString()) as typeof message;
    } catch (err) {
      return send('error', { message: `not JSON: ${(err as Error).message}`, code: 'INVALID_JSON' });
    }
    try {
      switch (message.type) {
        case 'reset': {
          if (envId) await envs.close(principal, envId).catch(() => undefined);
          const created = await envs.create(principal, resetRequest(task, message.data));
          envId = created.envId;
          return send('observation', stepResult(envId, created.observation, 0));
        }
        case 'step': {
          if (!envId) return send('error', { message: 'send reset first', code: 'SESSION_ERROR' });
          const result = await envs.step(principal, envId, actionOf(message.data));
          return send('observation', stepResult(envId, result.observation, result.reward));
        }
        case 'state':
          if (!envId) return send('error', { message: 'send reset first', code: 'SESSION_ERROR' });
          return send('state', stateOf(await envs.get(principal, envId)));
        case 'close':
          return socket.close();
        default:
          return send('error', { message: `unknown message type ${String(message.type)}`, code: 'UNKNOWN_TYPE' });
      }
    } catch (err) {
      const { body } = errorResponse(err);
      return send('error', { ...body, code: err instanceof EnvError ? 'VALIDATION_ERROR' : 'EXECUTION_ERROR' });
    }
  };
  // Messages are answered in order, one at a time, as OpenEnv's client expects.
  socket.on('message', (raw: RawData) => (queue = queue.then(() => handle(raw))));
  socket.on('close', () => {
    void queue.then(() => (envId ? envs.close(principal, envId).catch(() => undefined) : undefined));
  });
}

/** Mounts the facade on the gateway (the WebSocket plugin first, then its routes). */
export function registerOpenEnv(app: FastifyInstance, envs: SessionGate): void {
  void app.register(websocket);
  void app.register(routes(envs));
}
