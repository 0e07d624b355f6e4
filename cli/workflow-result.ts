import type { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { showProgress } from './progress';

/**
 * A started workflow's result, with live progress unless `json`; a failed workflow is reported
 * as `<command>: <its cause>` and gives undefined (the command exits 2).
 */
export async function resultWithProgress<W extends Workflow>(command: string, handle: WorkflowHandle<W>, json: boolean): Promise<WorkflowResultType<W> | undefined> {
  const done = handle.result();
  if (!json) await showProgress(handle, done);
  try {
    return await done;
  } catch (err) {
    const cause = (err as WorkflowFailedError).cause?.cause as Error | undefined;
    console.error(`${command}: ${cause?.message ?? (err as Error).message}`);
    return undefined;
  }
}
