import { describeFailure } from '../client/failures';
import { exitCodeOf, renderUserError, TypedError } from '../domain/failures';

/**
 * Prints a failure as its user should see it — the root cause, its type and class, where it came
 * from, the fix, the workflow and its UI link — as lines on stderr, or with --json as one object
 * `{error: {...}}` on stdout; gives the command's exit code (see domain/failures.ts EXIT_CODES).
 */
export function reportFailure(command: string, err: unknown, json: boolean): number {
  const error = describeFailure(err);
  if (json) console.log(JSON.stringify({ error }));
  else console.error(renderUserError(command, error));
  if (process.env.ANVIL_DEBUG) console.error(err);
  return exitCodeOf(error);
}

/** A flag, argument or file the command cannot use (exit 2); `hint` says what to give instead. */
export function inputError(message: string, hint?: string): TypedError {
  return new TypedError('BadInput', message, hint);
}

/** A command line that does not fit the command's usage (exit 2). */
export function usageError(help: string, message = 'wrong arguments'): TypedError {
  return new TypedError('Usage', message, `usage: ${help.split('\n')[0]}`);
}
