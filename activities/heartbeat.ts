import { Context } from '@temporalio/activity';

/** Names a sandbox run stably across retries of this activity (a retry replaces a lost attempt's run). */
export function runKey(suffix = ''): string {
  const { workflowExecution, activityId } = Context.current().info;
  return `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}${suffix ? `/${suffix}` : ''}`;
}

/**
 * Runs `work` while heartbeating every second with its current phase, so a lost worker is noticed
 * within the heartbeat timeout; `signal` aborts when Temporal cancels the activity. The first beat
 * comes after a second (each beat is a write on the server): work that ends sooner sends none.
 */
export async function withHeartbeat<T>(
  work: (signal: AbortSignal, phase: (name: string) => void) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  const started = Date.now();
  let current = 'starting';
  const beat = () => ctx.heartbeat({ phase: current, elapsedS: Math.round((Date.now() - started) / 1000) });
  const timer = setInterval(beat, 1000);
  try {
    return await work(ctx.cancellationSignal, (name) => {
      current = name;
      if (Date.now() - started >= 1000) beat();
    });
  } catch (err) {
    // A cancelled activity ends as the cancellation Temporal asked for, not as a sandbox error.
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    throw err;
  } finally {
    clearInterval(timer);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AsyncFunctions = Record<string, (...args: any[]) => Promise<unknown>>;

/**
 * The same activities, each heartbeating while it runs (`withHeartbeat`): for the LLM queue, whose
 * activities wait on a model endpoint for minutes and would otherwise look alive until startToClose.
 */
export function heartbeating<T extends AsyncFunctions>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: unknown[]) => withHeartbeat((_signal, phase) => (phase(name), fn(...args))),
    ]),
  ) as T;
}
