import { z } from 'zod';
import type { EnvService, TaskSummary } from '../client';
import {
  ENV_ACTIONS,
  REWARD_MODES,
  actionSchema,
  budgetSchema,
  createEnvSchema,
  type BudgetLeft,
  type DoneReason,
  type EnvState,
  type HistoryEntry,
  type Observation,
  type ObservationError,
  type RunSummary,
  type Scores,
  type StepResult,
} from '../domain/env';
import type { Medal } from '../domain/rewards';
import { rolloutInputSchema } from '../domain/rollouts';
import type { ErrorBody } from './server';

/**
 * The gateway's contract as OpenAPI 3.1: request bodies come from the zod schemas the handlers
 * parse with; response bodies are written out here, checked against domain/env.ts's interfaces
 * by `object<T>()` at compile time.
 */

/** The optional `Idempotency-Key` header of a step: a retry with the same key is applied once. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 _ . : -');

type Schema = { [key: string]: unknown; optional?: never };
class Optional {
  constructor(readonly optional: Schema) {}
}
/** One schema per key of T, exactly; T's optional keys take `optional(...)`. */
type Properties<T> = { [K in keyof T]-?: Pick<T, K> extends Required<Pick<T, K>> ? Schema : Optional };

const optional = (schema: Schema) => new Optional(schema);

function object<T>(properties: Properties<T>, description?: string): Schema {
  const props: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [key, value] of Object.entries<Schema | Optional>(properties)) {
    if (value instanceof Optional) props[key] = value.optional;
    else {
      props[key] = value;
      required.push(key);
    }
  }
  return { type: 'object', ...(description && { description }), properties: props, required };
}

/** The values of a string union, all of them: `Record<U, true>` fails to compile if one is missing. */
const valuesOf = <U extends string>(all: Record<U, true>): U[] => Object.keys(all) as U[];

/** A zod schema as JSON Schema (2020-12, which OpenAPI 3.1 uses), without its `$schema` line. */
function fromZod(schema: z.ZodType, io: 'input' | 'output'): Schema {
  const json = z.toJSONSchema(schema, { io }) as Schema;
  delete json.$schema;
  return json;
}

type Component =
  | 'CreateEnvRequest' | 'Action' | 'Created' | 'Observation' | 'StepResult' | 'EnvState' | 'TaskSummary' | 'Error'
  | 'RunSummary' | 'ObservationError' | 'Scores' | 'BudgetLeft' | 'HistoryEntry' | 'Budget';
const ref = (name: Component): Schema => ({ $ref: `#/components/schemas/${name}` });

const string: Schema = { type: 'string' };
const number: Schema = { type: 'number' };
const integer: Schema = { type: 'integer' };
const boolean: Schema = { type: 'boolean' };
const status: Schema = { type: 'string', enum: ['ok', 'error'] };
const doneReason: Schema = { type: 'string', enum: valuesOf<DoneReason>({ steps: true, 'wall-time': true, idle: true, closed: true }) };
const medal: Schema = {
  type: 'string',
  enum: valuesOf<Medal>({ gold: true, silver: true, bronze: true, 'above-median': true, none: true }),
};

const schemas: Record<Component, Schema> = {
  CreateEnvRequest: fromZod(createEnvSchema, 'input'),
  Action: fromZod(actionSchema, 'input'),
  Budget: fromZod(budgetSchema, 'output'),
  Created: object<Awaited<ReturnType<EnvService['create']>>>({ envId: string, observation: ref('Observation') }),
  StepResult: object<StepResult>({ observation: ref('Observation'), reward: number, done: boolean }),
  Observation: object<Observation>({
    step: { ...integer, description: '0 = the observation a session opens with' },
    action: { type: 'string', enum: [...ENV_ACTIONS, 'open'] },
    status,
    message: { ...string, description: 'one line on what happened' },
    info: optional({ type: 'object', description: 'request_info and the opening observation' }),
    run: optional(ref('RunSummary')),
    submission: optional({
      ...object<NonNullable<Observation['submission']>>({ valid: boolean, error: optional(string) }),
      description: 'validate_code: whether the submission it wrote would be accepted (never its score)',
    }),
    error: optional(ref('ObservationError')),
    score: optional({ ...ref('Scores'), description: 'execute_code with a valid submission' }),
    best: optional(ref('Scores')),
    history: optional({ type: 'array', items: ref('HistoryEntry') }),
    budget: ref('BudgetLeft'),
    done: boolean,
    doneReason: optional(doneReason),
  }),
  RunSummary: object<RunSummary>({
    exitCode: { type: ['integer', 'null'] },
    timedOut: boolean,
    oomKilled: boolean,
    wallMs: number,
    stdout: { ...string, description: 'the last part of the stream' },
    stderr: { ...string, description: 'the last part of the stream' },
    outputTruncated: boolean,
  }),
  ObservationError: object<ObservationError>({
    type: { ...string, description: 'e.g. RuntimeError, Timeout, OutOfMemory, MissingSubmission, InvalidSubmission, KeyError' },
    message: string,
    likelyCauses: { type: 'array', items: string },
  }),
  Scores: object<Scores>({ raw: number, position: { ...number, description: 'HumanRank, averaged over the leaderboards' }, medal }),
  BudgetLeft: object<BudgetLeft>({ stepsUsed: integer, stepsLeft: integer, wallTimeLeftS: number }),
  HistoryEntry: object<HistoryEntry>({
    step: integer,
    action: { type: 'string', enum: [...ENV_ACTIONS] },
    status,
    summary: string,
    score: optional(number),
  }),
  EnvState: object<EnvState>({
    envId: string,
    taskId: string,
    rewardMode: { type: 'string', enum: [...REWARD_MODES] },
    budget: ref('Budget'),
    stepsUsed: integer,
    startedAt: { ...string, format: 'date-time' },
    done: boolean,
    doneReason: optional(doneReason),
    best: optional(ref('Scores')),
    trajectory: { ...string, description: 'the JSONL trajectory in the artifact store' },
    placement: optional({ ...string, description: "the host's session queue, once a code step placed the sandbox" }),
  }),
  TaskSummary: object<TaskSummary>({
    id: string,
    title: optional(string),
    taskType: optional(string),
    metric: optional(string),
    synthetic: optional(boolean),
  }),
  Error: object<ErrorBody>({
    error: {
      type: 'string',
      enum: valuesOf<ErrorBody['error']>({
        'bad-request': true, 'unknown-task': true, 'not-found': true, ended: true, 'too-large': true, internal: true,
      }),
    },
    message: { ...string, description: 'what went wrong and what to send instead' },
  }),
};

const json = (description: string, schema: Schema) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(description, ref('Error'));
const body = (name: Component) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const envId = { name: 'id', in: 'path', required: true, schema: string, description: 'the envId that POST /v1/envs returned' };
const tooLarge = error('the body is over 1 MiB');
const internal = error('the service failed; the gateway logs the cause');

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  /** path → lower-case method → operation */
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<Component, Schema> };
}

export function openApiDocument(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Anvil gateway',
      version: 'v1',
      description: 'Gym-style environments over ML-engineering tasks: open a session, step it with actions, read or close it.',
    },
    paths: {
      '/v1/envs': {
        post: {
          summary: 'Open an environment session on a published task',
          requestBody: body('CreateEnvRequest'),
          responses: {
            201: json('the session and its opening observation', ref('Created')),
            400: error('the body is not a valid CreateEnvRequest'),
            404: error('no published task has this taskId (error: unknown-task)'),
            413: tooLarge,
            500: internal,
          },
        },
      },
      '/v1/envs/{id}/step': {
        post: {
          summary: 'Take one action',
          parameters: [
            envId,
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: fromZod(idempotencyKeySchema, 'input'),
              description: 'a retried request with the same key is applied once and returns the same result',
            },
          ],
          requestBody: body('Action'),
          responses: {
            200: json('the observation, the reward and whether the session is done', ref('StepResult')),
            400: error('the body is not a valid action, or the Idempotency-Key is malformed'),
            404: error('no session has this id'),
            409: error('the session has ended (error: ended)'),
            413: tooLarge,
            500: internal,
          },
        },
      },
      '/v1/envs/{id}': {
        get: {
          summary: "The session's state",
          parameters: [envId],
          responses: { 200: json('the session', ref('EnvState')), 404: error('no session has this id'), 500: internal },
        },
        delete: {
          summary: 'Close the session',
          parameters: [envId],
          responses: {
            200: json("the session's final state", ref('EnvState')),
            404: error('no session has this id'),
            409: error('the session cannot be closed (error: ended)'),
            500: internal,
          },
        },
      },
      '/v1/tasks': {
        get: {
          summary: 'The published tasks',
          responses: {
            200: json('every task a session can open', object<{ tasks: TaskSummary[] }>({ tasks: { type: 'array', items: ref('TaskSummary') } })),
            500: internal,
          },
        },
      },
      '/v1/rollouts': {
        post: {
          summary: 'Start a batch of agent episodes (rolloutBatch) for RL',
          requestBody: { required: true, content: { 'application/json': { schema: fromZod(rolloutInputSchema, 'input') } } },
          responses: {
            202: json('the batch started; poll GET /v1/rollouts/{id}', object<{ id: string }>({ id: string })),
            400: error('the body is not a valid rollout request'),
            500: internal,
          },
        },
      },
      '/v1/rollouts/{id}': {
        get: {
          summary: "A batch's progress, or its result: per episode reward, status and trajectory; per task mean, std and normalised advantages",
          parameters: [{ name: 'id', in: 'path', required: true, schema: string, description: 'the id POST /v1/rollouts returned' }],
          responses: {
            200: json('running (progress), completed (result) or failed (error)', { type: 'object', required: ['id', 'status'], properties: { id: string, status: { enum: ['running', 'completed', 'failed'] }, progress: { type: 'object' }, result: { type: 'object' }, error: string } }),
            404: error('no rollout has this id'),
            500: internal,
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { 200: json('OpenAPI 3.1', { type: 'object' }) } },
      },
      '/healthz': {
        get: { summary: 'Liveness', responses: { 200: json('the gateway is up', object<{ ok: true }>({ ok: { const: true } })) } },
      },
    },
    components: { schemas },
  };
}
