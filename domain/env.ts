import { z } from 'zod';
import type { ColumnProfile } from './profile';
import { MEDALS, type RewardMode } from './rewards';
import type { MetricSpec, TaskType } from './task';
import { failureFieldsSchema } from './failures';

/**
 * The Dojo's environment API: actions an agent takes, the observations it gets back, and the
 * session's budget. Each action is a Temporal Update of the envSession workflow, named as here.
 */

export const ENV_ACTIONS = [
  'request_info',
  'validate_code',
  'execute_code',
  'get_history',
  'reset',
  'select_submission',
] as const;
export type EnvAction = (typeof ENV_ACTIONS)[number];

export const INFO_KINDS = ['overview', 'data', 'sample_submission', 'metric', 'budget'] as const;
export type InfoKind = (typeof INFO_KINDS)[number];

export const REWARD_MODES = ['position', 'raw', 'medal'] as const satisfies readonly RewardMode[];

/** Code an agent sends is capped: it travels in Temporal payloads and the history. */
export const MAX_CODE_CHARS = 256 * 1024;

const code = z
  .string({ error: 'params.code must be a string of Python source' })
  .min(1, 'params.code is empty: send the Python source to run')
  .max(MAX_CODE_CHARS, `params.code is over ${MAX_CODE_CHARS / 1024} Ki characters: send a shorter script`);

/** Params of each action; every schema is strict, so a misspelt key is a clear error. */
export const ACTION_PARAMS = {
  request_info: z.strictObject({ kind: z.enum(INFO_KINDS).default('overview') }),
  validate_code: z.strictObject({ code }),
  execute_code: z.strictObject({ code }),
  get_history: z.strictObject({ last: z.number().int().positive().max(200).optional() }),
  reset: z.strictObject({}),
  /** marks an earlier execute_code step's submission as the final one (else the last valid one is) */
  select_submission: z.strictObject({
    step: z.number({ error: 'params.step must be a step number' }).int().positive(),
  }),
} as const;
export type ActionParams<A extends EnvAction> = z.output<(typeof ACTION_PARAMS)[A]>;

/** `{action, params}` as the gateway and policies send it. */
export const actionSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('request_info'),
    params: ACTION_PARAMS.request_info.default({ kind: 'overview' }),
  }),
  z.strictObject({ action: z.literal('validate_code'), params: ACTION_PARAMS.validate_code }),
  z.strictObject({ action: z.literal('execute_code'), params: ACTION_PARAMS.execute_code }),
  z.strictObject({ action: z.literal('get_history'), params: ACTION_PARAMS.get_history.default({}) }),
  z.strictObject({ action: z.literal('reset'), params: ACTION_PARAMS.reset.default({}) }),
  z.strictObject({ action: z.literal('select_submission'), params: ACTION_PARAMS.select_submission }),
]);
export type Action = z.output<typeof actionSchema>;

/** One line per problem, `path: message`, for 400s and rejected updates. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

/** What a session may spend; the run limits default to the task's resources. */
export const budgetSchema = z.strictObject({
  /** actions of any kind; the session ends after the last one */
  steps: z.number().int().positive().max(1000),
  /** the session ends this long after it started */
  wallTimeS: z.number().int().positive(),
  /** the session ends after this long without an action */
  idleTimeoutS: z.number().int().positive(),
  /** one code run's time limit */
  runTimeoutS: z
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .optional(),
  memoryMb: z.number().int().min(64).optional(),
  cpus: z.number().positive().max(64).optional(),
  /** execute_code steps that get a score; later ones are refused without running (unset = no cap) */
  submissions: z.number().int().positive().max(1000).optional(),
});
export type Budget = z.infer<typeof budgetSchema>;

export const createEnvSchema = z.strictObject({
  taskId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,79}$/, 'a task id: lowercase letters, digits and dashes (see GET /v1/tasks)'),
  budget: budgetSchema.partial().optional(),
  rewardMode: z.enum(REWARD_MODES).optional(),
});
export type CreateEnvRequest = z.infer<typeof createEnvSchema>;

/** A leaderboard of the task; HumanRank is averaged over all of them (e.g. public and private). */
export interface Leaderboard {
  name: string;
  scores: number[];
}

/** What the session knows of its task: public facts only, read once when it opens. */
export interface TaskInfo {
  taskId: string;
  packageDir: string;
  title: string;
  taskType: TaskType;
  target: string;
  idColumn: string;
  metric: MetricSpec;
  resources: { cpus: number; memoryMb: number; gpu: boolean; timeLimitS: number };
  /** description.md, capped */
  description: string;
  /** public/ as the agent's sandbox sees it under /data */
  files: { name: string; bytes: number }[];
  /** columns of train.csv (profiled), when the task has one */
  columns: Pick<ColumnProfile, 'name' | 'kind' | 'missing' | 'distinct' | 'top' | 'stats'>[];
  trainRows?: number;
  /** the rows `columns` describe, when train.csv was too big to profile whole (its head was) */
  profiledRows?: number;
  /** the first lines of sample_submission.csv */
  sampleSubmission: string;
  leaderboards: Leaderboard[];
}

const count = z.number().int().min(0);
const status = z.enum(['ok', 'error']);

export const DONE_REASONS = ['steps', 'wall-time', 'idle', 'closed'] as const;
export type DoneReason = (typeof DONE_REASONS)[number];

/*
 * What the Dojo answers with. The gateway's OpenAPI document is generated from these schemas
 * (gateway/openapi.ts); the types are inferred from them.
 */

export const scoresSchema = z.object({
  raw: z.number(),
  position: z.number().describe('HumanRank, averaged over the leaderboards'),
  medal: z.enum(MEDALS),
});
export type Scores = z.infer<typeof scoresSchema>;

export const runSummarySchema = z.object({
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  oomKilled: z.boolean(),
  wallMs: z.number(),
  stdout: z.string().describe('the last part of the stream'),
  stderr: z.string().describe('the last part of the stream'),
  outputTruncated: z.boolean(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const observationErrorSchema = z.object({
  type: z.string().describe('e.g. RuntimeError, Timeout, OutOfMemory, MissingSubmission, InvalidSubmission, KeyError'),
  message: z.string(),
  likelyCauses: z.array(z.string()),
});
export type ObservationError = z.infer<typeof observationErrorSchema>;

export const budgetLeftSchema = z.object({ stepsUsed: count, stepsLeft: count, wallTimeLeftS: z.number() });
export type BudgetLeft = z.infer<typeof budgetLeftSchema>;

export const historyEntrySchema = z.object({
  step: count,
  action: z.enum(ENV_ACTIONS),
  status,
  summary: z.string(),
  score: z.number().optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const observationSchema = z.object({
  step: count.describe('0 = the observation a session opens with'),
  action: z.enum([...ENV_ACTIONS, 'open']),
  status,
  message: z.string().describe('one line on what happened'),
  info: z.record(z.string(), z.unknown()).optional().describe('request_info and the opening observation'),
  run: runSummarySchema.optional(),
  submission: z
    .object({ valid: z.boolean(), error: z.string().optional() })
    .optional()
    .describe('validate_code: whether the submission it wrote would be accepted (never its score)'),
  error: observationErrorSchema.optional(),
  score: scoresSchema.optional().describe('execute_code with a valid submission: scored on the public test rows only'),
  best: scoresSchema.optional(),
  history: z.array(historyEntrySchema).optional(),
  budget: budgetLeftSchema,
  done: z.boolean(),
  doneReason: z.enum(DONE_REASONS).optional(),
});
export type Observation = z.infer<typeof observationSchema>;

/**
 * The episode's final reward, revealed when the session ends: the private test rows' score of its
 * final submission (the one select_submission marked, else the last valid one).
 */
export const finalResultSchema = z.object({
  step: count.describe('the execute_code step whose submission is final'),
  score: scoresSchema.describe('on the private test rows'),
  reward: z.number(),
});
export type FinalResult = z.infer<typeof finalResultSchema>;

export const stepResultSchema = z.object({ observation: observationSchema, reward: z.number(), done: z.boolean() });
export type StepResult = z.infer<typeof stepResultSchema>;

/** One step of an episode as a policy sees it. */
export interface PolicyTurn extends StepResult {
  /** the action that produced this observation; none for the opening observation */
  action?: Action;
}

/** What opening a session answers. */
export const createdEnvSchema = z.object({ envId: z.string(), observation: observationSchema });
export type CreatedEnv = z.infer<typeof createdEnvSchema>;

/** The session as `GET /v1/envs/:id` and the `state` query show it. */
export const envStateSchema = z.object({
  envId: z.string(),
  taskId: z.string(),
  rewardMode: z.enum(REWARD_MODES),
  budget: budgetSchema,
  stepsUsed: count,
  startedAt: z.iso.datetime(),
  done: z.boolean(),
  doneReason: z.enum(DONE_REASONS).optional(),
  best: scoresSchema.optional(),
  final: finalResultSchema.optional().describe('once the session has ended and it scored a submission'),
  trajectory: z.string().describe("the trajectory's ref: a JSONL file, or store:trajectories/<env>/ in an S3 store"),
  placement: z.string().optional().describe("the host's session queue, once a code step placed the sandbox"),
});
export type EnvState = z.infer<typeof envStateSchema>;

/** A published task as `GET /v1/tasks` lists it. */
export const taskSummarySchema = z.object({
  id: z.string(),
  title: z.string().optional(),
  taskType: z.string().optional(),
  metric: z.string().optional(),
  synthetic: z.boolean().optional(),
});
export type TaskSummary = z.infer<typeof taskSummarySchema>;

/** The body of every error answer of the gateway; its kind decides the HTTP status. */
export const errorBodySchema = z.object({
  error: z.enum([
    'bad-request',
    'unknown-task',
    'not-found',
    'ended',
    'unauthorized',
    'forbidden',
    'too-many-requests',
    'too-large',
    'rejected',
    'unavailable',
    'internal',
  ]),
  message: z.string().describe('what went wrong and what to send instead (host paths cut to their last segment)'),
  ...failureFieldsSchema.partial().shape,
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** One line of a trajectory file. */
export interface TrajectoryEntry {
  envId: string;
  taskId: string;
  step: number;
  action: EnvAction;
  params: Record<string, unknown>;
  observation: Observation;
  reward: number;
  done: boolean;
  timings: { startedAt: string; endedAt: string; ms: number };
  /** never shown to the agent: a scored submission's private-rows score and the reward it would earn as final */
  hidden?: HeldOut;
}

/** What a scored step's submission earns on the private test rows, kept from the agent until the end. */
export interface HeldOut {
  private: Scores;
  reward: number;
}

/** The names of the session's other messages (actions are updates named after themselves). */
export const ENV_MESSAGES = { state: 'state', observe: 'observe', close: 'close' } as const;
