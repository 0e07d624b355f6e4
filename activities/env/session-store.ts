import { chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { TypedError } from '../../domain/failures';
import { type ArtifactStore, sessionStore } from '../../package/store';

/** A store refusal as the activity's failure: not retried, the host that got it lost the session. */
function asFailure(err: unknown): unknown {
  return err instanceof TypedError && err.type === 'FencedOut'
    ? ApplicationFailure.nonRetryable(`${err.message}; ${err.hint ?? ''}`, 'FencedOut')
    : err;
}

/** chmod -R a+rwX: restored files belong to the worker, the sandbox user must write them. */
async function openToSandbox(dir: string): Promise<void> {
  await chmod(dir, 0o777);
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    await chmod(join(e.parentPath, e.name), e.isDirectory() ? 0o777 : 0o666);
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
