import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  ServerFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/common';
import { kindOf, TypedError, typeFromMessage, type UserError } from '../domain/failures';
import { EnvError } from './env-service';

/** Where the failed work ran, when the caller knows: the workflow id and its Web UI link. */
export interface FailureContext {
  workflowId?: string;
  link?: string;
}

/** An error whose user-facing description is already known (the CLI prints it as is). */
export class UserFacingError extends Error {
  constructor(readonly userError: UserError) {
    super(userError.message);
    this.name = 'UserFacingError';
  }
}

/** A `hint` an ApplicationFailure carries in its first detail, if any. */
function hintOf(failure: ApplicationFailure): string | undefined {
  const first: unknown = failure.details?.[0];
  return typeof first === 'object' && first !== null && 'hint' in first && typeof first.hint === 'string'
    ? first.hint
    : undefined;
}

/** One link of the cause chain: where it adds to the path, and the type it names if it is the root. */
function linkOf(err: Error): { where?: string; type?: string; hint?: string } {
  if (err instanceof ChildWorkflowFailure) return { where: err.workflowType };
  if (err instanceof ActivityFailure) return { where: err.activityType };
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'Error', hint: hintOf(err) };
  if (err instanceof TimeoutFailure) return { type: 'Timeout' };
  if (err instanceof TerminatedFailure) return { type: 'Terminated' };
  if (err instanceof CancelledFailure) return { type: 'Cancelled' };
  if (err instanceof ServerFailure) return { type: 'ServerFailure' };
  if (err instanceof TypedError) return { type: err.type, hint: err.hint };
  if (err instanceof EnvError) return { type: `Env:${err.kind}` };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return { type: 'Usage' };
  if (err.name === 'ConfigError') return { type: 'ConfigError' };
  return {};
}

/**
 * Walks a failure's cause chain (WorkflowFailedError → ChildWorkflowFailure → ActivityFailure →
 * ApplicationFailure, or any Error with causes) down to its root: the root's message and type, the
 * workflows and activities it passed through, its class and the hint to fix it.
 */
export function describeFailure(err: unknown, context: FailureContext = {}): UserError {
  if (err instanceof UserFacingError) return { ...err.userError, ...definedOf(context) };
  const where: string[] = [];
  let type: string | undefined;
  let hint: string | undefined;
  let current: unknown = err;
  let root: Error | undefined;
  while (current instanceof Error) {
    root = current;
    const link = linkOf(current);
    if (link.where) where.push(link.where);
    if (link.type) type = link.type;
    if (link.hint) hint = link.hint;
    if (current instanceof WorkflowFailedError || current instanceof WorkflowUpdateFailedError) {
      current = current.cause;
      continue;
    }
    current = (current as { cause?: unknown }).cause;
  }
  const message = root?.message || (err instanceof Error ? err.message : String(err));
  const specific = typeFromMessage(message);
  const named = type && type !== 'Error' ? type : (specific ?? (root as { name?: string })?.name ?? 'Error');
  const kind = kindOf(named) ?? (specific ? kindOf(specific) : undefined);
  return {
    class: kind?.class ?? 'failed',
    type: named,
    message: message || `${named} without a message`,
    where,
    ...(hint || kind?.hint ? { hint: hint ?? kind?.hint } : {}),
    ...definedOf(context),
  };
}

function definedOf(context: FailureContext): FailureContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
}
