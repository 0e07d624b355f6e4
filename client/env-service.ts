import type { Action, CreateEnvRequest, EnvState, Observation, StepResult } from '../domain/env';

/** A published task as `GET /v1/tasks` lists it. */
export interface TaskSummary {
  id: string;
  title?: string;
  taskType?: string;
  metric?: string;
  synthetic?: boolean;
}

/** Why a request could not be served; the gateway turns each kind into its HTTP status. */
export type EnvErrorKind = 'bad-request' | 'unknown-task' | 'not-found' | 'ended';

export class EnvError extends Error {
  override name = 'EnvError';
  constructor(
    readonly kind: EnvErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** What the gateway (and the CLI, and rollouts) need of the Dojo; backed by the Temporal client. */
export interface EnvService {
  listTasks(): Promise<TaskSummary[]>;
  create(request: CreateEnvRequest): Promise<{ envId: string; observation: Observation }>;
  /** `requestId` makes a retried request idempotent (it becomes the Temporal update id) */
  step(envId: string, action: Action, options?: { requestId?: string }): Promise<StepResult>;
  get(envId: string): Promise<EnvState>;
  close(envId: string): Promise<EnvState>;
}
