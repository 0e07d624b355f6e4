import type { WorkflowHandle } from '@temporalio/client';
import { describeFailure, UserFacingError } from '../client/failures';
import { showProgress } from './progress';

type ResultOf<H extends WorkflowHandle> = Awaited<ReturnType<H['result']>>;

/**
 * A started workflow's result; a failed workflow throws a UserFacingError naming its root cause,
 * the workflow id and its UI `link` (main prints it and exits with its class's code).
 */
export async function workflowResult<H extends WorkflowHandle>(handle: H, link?: string): Promise<ResultOf<H>> {
  try {
    return (await handle.result()) as ResultOf<H>;
  } catch (err) {
    const failure = describeFailure(err, { workflowId: handle.workflowId, link });
    // The chain starts below the workflow itself: name it too (one extra call, on failure only).
    const type = await handle.describe().then(
      (d) => d.type,
      () => undefined,
    );
    throw new UserFacingError({ ...failure, where: type ? [type, ...failure.where] : failure.where });
  }
}

/** workflowResult, with a line on stderr each time the pending activities change (unless `json`). */
export async function resultWithProgress<H extends WorkflowHandle>(
  handle: H,
  json: boolean,
  link?: string,
): Promise<ResultOf<H>> {
  const done = workflowResult(handle, link);
  if (!json) await showProgress(handle, done);
  return done;
}
