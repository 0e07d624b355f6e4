/**
 * What a failure means to the person who started the work: one shape for the CLI (text and
 * --json), the gateway's error bodies and the rollout status, built from a failure's cause chain
 * by client/failures.ts. Pure: no Temporal classes here.
 */

import { z } from 'zod';

/**
 * `input`: the input cannot be used (a file, folder, flag, id); `rejected`: the data or package was
 * judged and failed; `infrastructure`: an engine, server or endpoint is down or unreachable;
 * `failed`: the work itself broke (a bug, a model that keeps erring, a crashed script).
 */
export const FAILURE_CLASSES = ['input', 'rejected', 'infrastructure', 'failed'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** The fields a failure adds to an answer (the gateway's error bodies, a failed rollout's status). */
export const failureFieldsSchema = z.object({
  type: z.string().describe("the root failure's type, e.g. BadDataset or Env:unknown-task"),
  class: z.enum(FAILURE_CLASSES).describe('input, rejected, infrastructure or failed'),
  where: z.array(z.string()).describe('the workflows and activities the failure came through'),
  hint: z.string().optional().describe('what to do about it'),
  workflowId: z.string().optional().describe('the workflow that failed, if one did'),
});

/** The CLI's exit codes, one per outcome; every command documents which it uses. */
export const EXIT_CODES = { ok: 0, rejected: 1, failed: 1, input: 2, infrastructure: 3 } as const;

export interface UserError {
  class: FailureClass;
  /** the root failure's type, e.g. `BadDataset`; `Error` when an unnamed error */
  type: string;
  /** the root cause's own message: what went wrong (and often which file or setting) */
  message: string;
  /** the chain from the workflow down to the activity that failed, e.g. forgeDataset › intakeDataset */
  where: string[];
  /** what to do about it */
  hint?: string;
  workflowId?: string;
  /** the workflow in the Temporal Web UI, when one is known */
  link?: string;
}

/** An error raised outside Temporal (the CLI, a preflight check) that names its failure type. */
export class TypedError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = type;
  }
}

interface Kind {
  class: FailureClass;
  hint: string;
}

/**
 * Every failure type that activities and workflows raise on purpose, with its class and generic fix
 * (the message says the specific one). A type missing here is `failed`, with no hint.
 */
export const FAILURE_KINDS: Record<string, Kind> = {
  Usage: { class: 'input', hint: 'run `anvil <command> --help` for its usage' },
  BadInput: { class: 'input', hint: 'fix the argument or file named in the message' },
  ConfigError: { class: 'input', hint: 'fix the setting named in the message (env var or anvil.config.json)' },
  MissingSetting: { class: 'input', hint: 'set it in the environment or in anvil.config.json' },
  BadDataset: {
    class: 'input',
    hint:
      'give a CSV/TSV, JSON, JSONL or Parquet file (or a folder of them) with a header row, ' +
      'enough rows and a column to predict',
  },
  NoUsableTarget: {
    class: 'rejected',
    hint: 'give data with the outcome it was collected to predict (a label or measured result) as a column',
  },
  UnknownDataset: { class: 'input', hint: 'use one of the example names listed, or a path to a data file' },
  BadPackage: { class: 'input', hint: 'pass a task package folder, the one that holds task.json' },
  BadTask: {
    class: 'input',
    hint: 'check the task id with `anvil tasks list`, or re-verify the package with `anvil verify`',
  },
  UnknownSeed: { class: 'input', hint: 'seed Synth with a published, verified task: see `anvil tasks list`' },
  UnknownPolicy: { class: 'input', hint: 'use a policy the llm worker knows: heuristic or openai' },
  PathOutsideRoots: {
    class: 'input',
    hint: 'paths in workflow inputs must lie under paths.home, paths.artifacts or paths.catalog',
  },
  FencedOut: {
    class: 'infrastructure',
    hint: 'the session moved to another host; the lost host stops writing and the new owner carries on',
  },
  InvalidRunSpec: { class: 'input', hint: 'fix the run spec fields named in the message' },
  InvalidTrainingSpec: { class: 'input', hint: 'fix the training spec fields named in the message' },
  BadSynthInput: { class: 'input', hint: 'fix the Synth options named in the message' },
  BadRolloutInput: { class: 'input', hint: 'fix the rollout request fields named in the message' },
  EndpointRefused: {
    class: 'input',
    hint: 'use the configured endpoint or one matching llm.endpoints (ANVIL_LLM_ENDPOINTS) on the llm workers',
  },
  UnknownApiKey: { class: 'input', hint: 'set ANVIL_LLM_KEY_<REF> on the llm workers, or drop apiKeyRef' },
  'Env:bad-request': { class: 'input', hint: 'fix the request as the message says' },
  'Env:unknown-task': { class: 'input', hint: 'pick a task id from `anvil tasks list` (or GET /v1/tasks)' },
  'Env:not-found': { class: 'input', hint: 'check the id; start a new session or rollout if it is gone' },
  'Env:ended': { class: 'input', hint: 'the session has ended: start a new one' },
  'Env:unauthorized': {
    class: 'input',
    hint: 'send Authorization: Bearer <key> with a key from `anvil keys create` (the operator makes them)',
  },
  'Env:forbidden': { class: 'input', hint: 'ask the operator for a key whose limits allow it' },
  'Env:too-many-requests': { class: 'input', hint: 'wait the Retry-After seconds, or end sessions you no longer use' },
  InvalidSubmission: { class: 'rejected', hint: 'write submission.csv in the format of sample_submission.csv' },
  TrainingFailed: {
    class: 'failed',
    hint: 'fix the training script (its stderr is in the message) and start a new run',
  },
  SmokeRunFailed: { class: 'failed', hint: 'look at the run output in the message; `make setup` rebuilds the image' },
  InvalidRoleOutput: {
    class: 'failed',
    hint: 'the model kept answering outside the schema: try a stronger model (ANVIL_MODEL) or --provider heuristic',
  },
  PromptTooLong: {
    class: 'failed',
    hint: "the prompt does not fit the model's context window: use a model with a longer one (ANVIL_MODEL)",
  },
  InvalidPolicyOutput: { class: 'failed', hint: 'the policy model kept answering outside the tool schema' },
  EmptyTrajectory: { class: 'input', hint: 'export a session that took at least one step' },
  EpisodeFailed: { class: 'failed', hint: 'see the error in the message and the trajectory so far' },
  EpisodeStartFailed: { class: 'failed', hint: 'see the cause in the message; the task may not be playable' },
  LlmRefused: { class: 'infrastructure', hint: 'check OPENAI_API_KEY, OPENAI_BASE_URL and the model name' },
  RateLimited: { class: 'infrastructure', hint: 'the endpoint keeps rate limiting: lower llm concurrency or wait' },
  NoSessionsHere: { class: 'infrastructure', hint: 'run a cpu/gpu worker with the docker sandbox backend' },
  Unreachable: {
    class: 'infrastructure',
    hint: 'start the server (or unset TEMPORAL_ADDRESS to use the embedded dev server) and check the address',
  },
  EndpointError: { class: 'infrastructure', hint: 'check that OPENAI_BASE_URL points at a working server' },
  DockerUnavailable: { class: 'infrastructure', hint: 'start the Docker engine (`make setup` does) and try again' },
  StoreUnavailable: {
    class: 'infrastructure',
    hint: 'check that this host reaches the artifact store (ANVIL_S3_ENDPOINT, ANVIL_S3_BUCKET, AWS_* credentials)',
  },
  Timeout: {
    class: 'infrastructure',
    hint: 'a worker for that queue may be down: start it, or look in the Temporal UI',
  },
  Terminated: { class: 'failed', hint: 'someone terminated the workflow; start the work again' },
  Cancelled: { class: 'failed', hint: 'the work was cancelled; start it again if that was not meant' },
};

/** The class and hint of a failure type; an explicit hint from the failure itself wins. */
export function kindOf(type: string): Kind | undefined {
  return Object.hasOwn(FAILURE_KINDS, type) ? FAILURE_KINDS[type] : undefined;
}

export function exitCodeOf(error: Pick<UserError, 'class'>): number {
  return EXIT_CODES[error.class];
}

/** Errors whose text names an engine that is not there, whatever their type. */
const UNREACHABLE = [
  { type: 'DockerUnavailable', pattern: /docker\.sock|Cannot connect to the Docker daemon/i },
  { type: 'Unreachable', pattern: /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|[Ff]ailed to connect|cannot reach/ },
];

/** A more specific type for an untyped error, judged from its message; undefined if none fits. */
export function typeFromMessage(message: string): string | undefined {
  return UNREACHABLE.find((u) => u.pattern.test(message))?.type;
}

/** Absolute filesystem paths of two or more segments (not gateway routes such as /v1/envs). */
const HOST_PATH = /(?<![\w:/.-])\/(?!v1\/)(?:[\w.@+-]+\/)+[\w.@+-]*/g;

/** The text with host paths cut to their last segment: what a remote client may see. */
export function withoutHostPaths(text: string): string {
  return text.replace(HOST_PATH, (path) => {
    const last = path.replace(/\/$/, '').split('/').at(-1);
    return last ? `…/${last}` : '…';
  });
}

/** The user error as the lines the CLI prints to stderr, led by `<command>: <message>`. */
export function renderUserError(command: string, error: UserError): string {
  const lines = [`${command}: ${error.message}`];
  lines.push(`  type: ${error.type} (${error.class})${error.where.length ? `, from ${error.where.join(' › ')}` : ''}`);
  if (error.hint) lines.push(`  fix: ${error.hint}`);
  if (error.workflowId) lines.push(`  workflow: ${error.workflowId}${error.link ? ` — ${error.link}` : ''}`);
  return lines.join('\n');
}
