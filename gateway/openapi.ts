import { z } from 'zod';
import {
  actionSchema,
  budgetLeftSchema,
  budgetSchema,
  createdEnvSchema,
  createEnvSchema,
  envStateSchema,
  errorBodySchema,
  historyEntrySchema,
  observationErrorSchema,
  observationSchema,
  runSummarySchema,
  scoresSchema,
  stepResultSchema,
  taskSummarySchema,
} from '../domain/env';
import {
  episodeOutcomeSchema,
  groupStatsSchema,
  rolloutRequestSchema,
  rolloutResultSchema,
  rolloutStatusSchema,
} from '../domain/rollouts';

/**
 * The gateway's contract as OpenAPI 3.1, generated from zod schemas: the request bodies are the
 * schemas the handlers parse with, the response bodies the schemas domain/ infers its types from.
 */

/** The optional `Idempotency-Key` header of a step: a retry with the same key is applied once. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 _ . : -');

type JsonSchema = Record<string, unknown>;

/** The bodies of requests, as clients send them (defaults not yet applied). */
const REQUESTS = { CreateEnvRequest: createEnvSchema, Action: actionSchema, RolloutRequest: rolloutRequestSchema };

/** The bodies of responses; a schema that another one uses is referred to by its name here. */
const RESPONSES = {
  Created: createdEnvSchema,
  StepResult: stepResultSchema,
  Observation: observationSchema,
  RunSummary: runSummarySchema,
  ObservationError: observationErrorSchema,
  Scores: scoresSchema,
  BudgetLeft: budgetLeftSchema,
  HistoryEntry: historyEntrySchema,
  Budget: budgetSchema,
  EnvState: envStateSchema,
  TaskSummary: taskSummarySchema,
  TaskList: z.object({ tasks: z.array(taskSummarySchema).describe('every task a session can open') }),
  RolloutStarted: z.object({ id: z.string().describe('poll GET /v1/rollouts/{id} with it') }),
  RolloutStatus: rolloutStatusSchema,
  RolloutResult: rolloutResultSchema,
  EpisodeOutcome: episodeOutcomeSchema,
  GroupStats: groupStatsSchema,
  Health: z.object({ ok: z.literal(true) }),
  Error: errorBodySchema,
};

type Component = keyof typeof REQUESTS | keyof typeof RESPONSES;
const COMPONENTS = '#/components/schemas/';
const ref = (name: Component): JsonSchema => ({ $ref: `${COMPONENTS}${name}` });

/** Schemas as JSON Schema 2020-12 (which OpenAPI 3.1 uses), each a component, referring to each other by $ref. */
function componentsOf(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const override = ({ jsonSchema }: { jsonSchema: JsonSchema }) => trim(jsonSchema, io);
  const { schemas: generated } = z.toJSONSchema(registry, { io, uri: (id) => `${COMPONENTS}${id}`, override });
  return Object.fromEntries(Object.entries(generated).map(([id, schema]) => [id, bare(schema)]));
}

/**
 * Leaves out what zod writes for its own checks but a reader of the contract does not need: the
 * safe-integer bounds of every integer, the pattern behind a date-time, and in responses
 * `additionalProperties: false` (a later version may add fields).
 */
function trim(schema: JsonSchema, io: 'input' | 'output'): void {
  if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
  if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  if (schema.format === 'date-time') delete schema.pattern;
  if (io === 'output' && schema.additionalProperties === false) delete schema.additionalProperties;
}

/** A generated schema without the header of a document of its own, as components and parameters take it. */
function bare({ $schema: _schema, $id: _id, ...schema }: JsonSchema): JsonSchema {
  return schema;
}

const json = (description: string, schema: JsonSchema) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => json(description, ref('Error'));
const body = (name: Component) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const string: JsonSchema = { type: 'string' };
const envId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: string,
  description: 'the envId that POST /v1/envs returned',
};
const tooLarge = error('the body is over 1 MiB');
const internal = error('the service failed; the gateway logs the cause');

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  /** path → lower-case method → operation */
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
  security: Record<string, string[]>[];
}

/** The routes that need no key (auth.ts: `config: {public: true}`). */
const PUBLIC_PATHS = new Set(['/openapi.json', '/healthz']);

/** Every operation but the public ones: the key, and the answers auth.ts may give instead of the route's. */
function withAuth(paths: OpenApiDocument['paths']): OpenApiDocument['paths'] {
  return Object.fromEntries(
    Object.entries(paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, op]) => {
          const operation = op as { responses: Record<string, unknown> };
          if (PUBLIC_PATHS.has(path)) return [method, { ...operation, security: [] }];
          const responses = {
            ...operation.responses,
            401: error('no API key, or an unknown or revoked one (error: unauthorized)'),
            429: error("the key is over one of its limits; retry after the Retry-After header's seconds"),
          };
          return [method, { ...operation, responses }];
        }),
      ),
    ]),
  );
}

export function openApiDocument(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Anvil gateway',
      version: 'v1',
      description:
        'Gym-style environments over ML-engineering tasks: open a session, step it with actions, read or close it.',
    },
    security: [{ apiKey: [] }],
    paths: withAuth({
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
              schema: bare(z.toJSONSchema(idempotencyKeySchema, { io: 'input' })),
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
          responses: { 200: json('every task a session can open', ref('TaskList')), 500: internal },
        },
      },
      '/v1/rollouts': {
        post: {
          summary: 'Start a batch of agent episodes (rolloutBatch) for RL',
          requestBody: body('RolloutRequest'),
          responses: {
            202: json('the batch started; poll GET /v1/rollouts/{id}', ref('RolloutStarted')),
            400: error('the body is not a valid rollout request (it may not name a catalogDir)'),
            403: error('the key may not start rollouts with the openai policy (error: forbidden)'),
            500: internal,
          },
        },
      },
      '/v1/rollouts/{id}': {
        get: {
          summary:
            "A batch's progress, or its result: per episode reward, status and trajectory; " +
            'per task mean, std and normalised advantages',
          parameters: [{ ...envId, description: 'the id POST /v1/rollouts returned' }],
          responses: {
            200: json('running (progress), completed (result) or failed (error)', ref('RolloutStatus')),
            404: error('no rollout has this id'),
            500: internal,
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { 200: json('OpenAPI 3.1', { type: 'object' }) } },
      },
      '/healthz': {
        get: { summary: 'Liveness', responses: { 200: json('the gateway is up', ref('Health')) } },
      },
    }),
    components: {
      schemas: { ...componentsOf(REQUESTS, 'input'), ...componentsOf(RESPONSES, 'output') },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'a key from `anvil keys create` (docs/security.md)' },
      },
    },
  };
}
