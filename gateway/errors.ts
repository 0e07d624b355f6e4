import { EnvError, type EnvErrorKind } from '../client';
import { describeFailure } from '../client/failures';
import { type ErrorBody, MAX_CODE_CHARS } from '../domain/env';
import { type FailureClass, type UserError, withoutHostPaths } from '../domain/failures';

/** The biggest legitimate body is a script of MAX_CODE_CHARS, JSON-escaped; anything past this is refused. */
export const BODY_LIMIT = 1024 * 1024;

const ENV_STATUS: Record<EnvErrorKind, number> = {
  'bad-request': 400,
  'unknown-task': 404,
  'not-found': 404,
  ended: 409,
  unauthorized: 401,
  forbidden: 403,
  'too-many-requests': 429,
};

/** Every other failure answers by its class: the same classes as the CLI's exit codes. */
const CLASS_ANSWER: Record<FailureClass, { status: number; error: ErrorBody['error'] }> = {
  input: { status: 400, error: 'bad-request' },
  rejected: { status: 422, error: 'rejected' },
  infrastructure: { status: 503, error: 'unavailable' },
  failed: { status: 500, error: 'internal' },
};

/** Fastify's own client errors (body too large, bad Content-Length, …) carry an FST_ code and a 4xx. */
function fastifyClientError(err: unknown): number | undefined {
  if (!(err instanceof Error) || !('code' in err) || !('statusCode' in err)) return undefined;
  const { code, statusCode } = err;
  const ours = typeof code === 'string' && code.startsWith('FST_') && typeof statusCode === 'number';
  return ours && statusCode >= 400 && statusCode < 500 ? statusCode : undefined;
}

/** A user error as a remote client may see it: the CLI's fields, host paths cut, no UI link, no stack. */
export function remoteFields(error: UserError): Omit<ErrorBody, 'error'> {
  const { type, class: failureClass, where, hint, workflowId } = error;
  return {
    message: withoutHostPaths(error.message),
    type,
    class: failureClass,
    where,
    ...(hint ? { hint: withoutHostPaths(hint) } : {}),
    ...(workflowId ? { workflowId } : {}),
  };
}

/** Any error a route throws, as its HTTP status and body (the same description the CLI prints). */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  const status = fastifyClientError(err);
  if (status === 413) {
    const limits = `params.code may be at most ${MAX_CODE_CHARS / 1024} Ki characters`;
    return {
      status,
      body: { error: 'too-large', message: `the body is over ${BODY_LIMIT / 1024 / 1024} MiB; ${limits}` },
    };
  }
  if (status !== undefined) {
    const message = `${(err as Error).message}: send a JSON body with Content-Type: application/json`;
    return { status, body: { error: 'bad-request', message } };
  }
  const error = describeFailure(err);
  if (err instanceof EnvError)
    return { status: ENV_STATUS[err.kind], body: { error: err.kind, ...remoteFields(error) } };
  const answer = CLASS_ANSWER[error.class];
  return { status: answer.status, body: { error: answer.error, ...remoteFields(error) } };
}
