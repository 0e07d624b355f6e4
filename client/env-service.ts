import type { Action, CreatedEnv, CreateEnvRequest, EnvState, StepResult, TaskSummary } from '../domain/env';

/** Why a request could not be served; the gateway turns each kind into its HTTP status. */
export type EnvErrorKind =
  'bad-request' | 'unknown-task' | 'not-found' | 'ended' | 'unauthorized' | 'forbidden' | 'too-many-requests';

export class EnvError extends Error {
  override name = 'EnvError';
  constructor(
    readonly kind: EnvErrorKind,
    message: string,
    /** too-many-requests: when to try again (the Retry-After header) */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/** The one message for a task id the catalog does not hold (the gateway and the CLI say the same). */
export function unknownTask(taskId: string, catalogDir: string, known: string[]): EnvError {
  const listed = known.length
    ? `; known: ${known.slice(0, 20).join(', ')}`
    : ' (it is empty: forge or import a task first)';
  return new EnvError('unknown-task', `no task "${taskId}" in the catalog ${catalogDir}${listed}`);
}

/** What the gateway (and the CLI, and rollouts) need of the Dojo; backed by the Temporal client. */
export interface EnvService {
  listTasks(): Promise<TaskSummary[]>;
  /** `owner` (an API key's id) is recorded with the session, for `owner()` */
  create(request: CreateEnvRequest, options?: { owner?: string }): Promise<CreatedEnv>;
  /** `requestId` makes a retried request idempotent (it becomes the Temporal update id) */
  step(envId: string, action: Action, options?: { requestId?: string }): Promise<StepResult>;
  get(envId: string): Promise<EnvState>;
  close(envId: string): Promise<EnvState>;
  /** who opened the session (undefined: no owner recorded); EnvError not-found unless `envId` is a session */
  owner(envId: string): Promise<string | undefined>;
}

export { OWNER_MEMO } from '../domain/search-attributes';

/** The one not-found message for an id that is not a session (or not one the caller may see). */
export const noEnvironment = (envId: string) =>
  new EnvError('not-found', `no environment ${envId}: create one with POST /v1/envs`);
