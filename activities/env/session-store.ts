import { ApplicationFailure } from '@temporalio/activity';
import { TypedError } from '../../domain/failures';
import { type ArtifactStore, sessionStore } from '../../package/store';
import { openToSandbox } from '../workspace-permissions';

/** A store refusal as the activity's failure: not retried, the host that got it lost the session. */
function asFailure(err: unknown): unknown {
  return err instanceof TypedError && err.type === 'FencedOut'
    ? ApplicationFailure.nonRetryable(`${err.message}; ${err.hint ?? ''}`, 'FencedOut')
    : err;
}

/**
 * Makes this host the session's owner as `epoch` (the workflow's placement count) before a step.
 * A host taking the session over (the store's owner is an older epoch) records its epoch, which
 * fences the lost host, and fills its empty workspace from the last snapshot. A host whose epoch
 * is older than the store's has lost the session: `FencedOut`.
 */
export async function takeSession(
  store: ArtifactStore,
  { envId, epoch, workspaceDir }: { envId: string; epoch: number; workspaceDir: string },
): Promise<'owner' | 'restored' | 'fresh'> {
  const scope = sessionStore(store, envId);
  try {
    const owner = await scope.current();
    if (owner === epoch) return 'owner';
    await scope.advance(epoch);
  } catch (err) {
    throw asFailure(err);
  }
  const from = await scope.getTree('workspace', workspaceDir);
  if (from === undefined) return 'fresh';
  await openToSandbox(workspaceDir);
  return 'restored';
}

/** Snapshots the workspace after a step, as `epoch`; refused (`FencedOut`) once another host owns the session. */
export async function snapshotSession(
  store: ArtifactStore,
  { envId, epoch, workspaceDir }: { envId: string; epoch: number; workspaceDir: string },
): Promise<void> {
  try {
    await sessionStore(store, envId).putTree(epoch, 'workspace', workspaceDir);
  } catch (err) {
    throw asFailure(err);
  }
}
