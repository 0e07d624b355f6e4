import { z } from 'zod';
import type { ColumnProfile } from './profile';
import type { Medal, RewardMode } from './rewards';
import type { MetricSpec, TaskType } from './task';

/**
 * The Dojo's environment API: actions an agent takes, the observations it gets back, and the
 * session's budget. Each action is a Temporal Update of the envSession workflow, named as here.
 */

export const ENV_ACTIONS = ['request_info', 'validate_code', 'execute_code', 'get_history', 'reset'] as const;
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
} as const;
export type ActionParams<A extends EnvAction> = z.output<(typeof ACTION_PARAMS)[A]>;

/** `{action, params}` as the gateway and policies send it. */
export const actionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('request_info'), params: ACTION_PARAMS.request_info.default({ kind: 'overview' }) }),
  z.strictObject({ action: z.literal('validate_code'), params: ACTION_PARAMS.validate_code }),
  z.strictObject({ action: z.literal('execute_code'), params: ACTION_PARAMS.execute_code }),
  z.strictObject({ action: z.literal('get_history'), params: ACTION_PARAMS.get_history.default({}) }),
  z.strictObject({ action: z.literal('reset'), params: ACTION_PARAMS.reset.default({}) }),
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
  runTimeoutS: z.number().int().positive().max(24 * 3600).optional(),
  memoryMb: z.number().int().min(64).optional(),
  cpus: z.number().positive().max(64).optional(),
});
export type Budget = z.infer<typeof budgetSchema>;

export const createEnvSchema = z.strictObject({
  taskId: z.string().regex(/^[a-z0-9][a-z0-9-]{1,79}$/, 'a task id: lowercase letters, digits and dashes (see GET /v1/tasks)'),
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

export interface Scores {
  raw: number;
  /** HumanRank, averaged over the leaderboards */
  position: number;
  medal: Medal;
}

export interface RunSummary {
  exitCode: number | null;
  timedOut: boolean;
  oomKilled: boolean;
  wallMs: number;
  /** the last part of each stream */
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
}

export interface ObservationError {
  /** e.g. RuntimeError, Timeout, OutOfMemory, MissingSubmission, InvalidSubmission, and Python's own (KeyError, …) */
  type: string;
  message: string;
  likelyCauses: string[];
}

export interface BudgetLeft {
  stepsUsed: number;
  stepsLeft: number;
  wallTimeLeftS: number;
}

export interface HistoryEntry {
  step: number;
  action: EnvAction;
  status: 'ok' | 'error';
  summary: string;
  score?: number;
}

export interface Observation {
  /** 0 = the observation a session opens with */
  step: number;
  action: EnvAction | 'open';
  status: 'ok' | 'error';
  /** one line on what happened */
  message: string;
  /** request_info and the opening observation */
  info?: Record<string, unknown>;
  run?: RunSummary;
  /** validate_code: whether the submission it wrote would be accepted (never its score) */
  submission?: { valid: boolean; error?: string };
  error?: ObservationError;
  /** execute_code with a valid submission */
  score?: Scores;
  best?: Scores;
  history?: HistoryEntry[];
  budget: BudgetLeft;
  done: boolean;
  doneReason?: DoneReason;
}

export type DoneReason = 'steps' | 'wall-time' | 'idle' | 'closed';

export interface StepResult {
  observation: Observation;
  reward: number;
  done: boolean;
}

/** The session as `GET /v1/envs/:id` and the `state` query show it. */
export interface EnvState {
  envId: string;
  taskId: string;
  rewardMode: RewardMode;
  budget: Budget;
  stepsUsed: number;
  startedAt: string;
  done: boolean;
  doneReason?: DoneReason;
  best?: Scores;
  /** JSONL in the artifact store */
  trajectory: string;
  /** where the session's sandbox lives (a host's session queue), once a code step placed it */
  placement?: string;
}

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
}

/** The names of the session's other messages (actions are updates named after themselves). */
export const ENV_MESSAGES = { state: 'state', observe: 'observe', close: 'close' } as const;
