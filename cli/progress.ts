import type { WorkflowHandle } from '@temporalio/client';

/** A workflow task scheduled this long without a worker taking it suggests no worker is running. */
const NO_WORKER_HINT_MS = 10_000;

/**
 * Prints a line each time the workflow's pending activities change (type, attempt, last failure),
 * and a hint when no worker takes its workflow task, until `done` settles. Progress goes to stderr
 * so `--json` output on stdout stays clean.
 */
export async function showProgress(
  handle: WorkflowHandle,
  done: Promise<unknown>,
  print = (line: string) => process.stderr.write(`${line}\n`),
): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let last = '';
  let hinted = false;
  const started = Date.now();
  while (!finished) {
    try {
      const { raw, taskQueue } = await handle.describe();
      const pending = (raw.pendingActivities ?? []).map((a) => {
        const retry =
          (a.attempt ?? 1) > 1
            ? ` (attempt ${a.attempt}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''})`
            : '';
        return `${a.activityType?.name}${retry}`;
      });
      const line = pending.join(', ');
      if (line && line !== last) print(`  [${Math.round((Date.now() - started) / 1000)}s] running ${line}`);
      last = line;
      const task = raw.pendingWorkflowTask;
      const scheduledMs = task?.scheduledTime?.seconds ? Number(task.scheduledTime.seconds) * 1000 : undefined;
      const waiting =
        task && !task.startedTime && scheduledMs !== undefined && Date.now() - scheduledMs > NO_WORKER_HINT_MS;
      if (waiting && !hinted) {
        print(
          `  no worker has taken this workflow for ${NO_WORKER_HINT_MS / 1000}s: is a worker polling ${taskQueue}? (anvil worker --queue control)`,
        );
        hinted = true;
      }
    } catch {
      // describe can fail transiently; the result promise reports real failures
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
}
