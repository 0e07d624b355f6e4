import type { WorkflowHandle } from '@temporalio/client';

/**
 * Prints a line each time the workflow's pending activities change (type, attempt, last failure),
 * until `done` settles. Progress goes to stderr so `--json` output on stdout stays clean.
 */
export async function showProgress(handle: WorkflowHandle, done: Promise<unknown>, print = (line: string) => process.stderr.write(`${line}\n`)): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let last = '';
  const started = Date.now();
  while (!finished) {
    try {
      const { raw } = await handle.describe();
      const pending = (raw.pendingActivities ?? []).map((a) => {
        const retry = (a.attempt ?? 1) > 1 ? ` (attempt ${a.attempt}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''})` : '';
        return `${a.activityType?.name}${retry}`;
      });
      const line = pending.join(', ');
      if (line && line !== last) print(`  [${Math.round((Date.now() - started) / 1000)}s] running ${line}`);
      last = line;
    } catch {
      // describe can fail transiently; the result promise reports real failures
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
}
