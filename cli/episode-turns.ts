import type { WorkflowHandle } from '@temporalio/client';
import type { PolicyTurn } from '../domain/env';

/**
 * Hands each turn of an episode workflow to `onTurn` as it comes (its `episodeTurns` query,
 * polled), until `done` settles; then the turns that came last.
 */
export async function followTurns(
  handle: WorkflowHandle,
  done: Promise<unknown>,
  onTurn: (turn: PolicyTurn) => void,
): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let seen = 0;
  const showNew = async () => {
    // Not queryable before a worker has run its first task: nothing to show yet.
    const turns = await handle.query<PolicyTurn[]>('episodeTurns').catch(() => []);
    for (const turn of turns.slice(seen)) onTurn(turn);
    seen = Math.max(seen, turns.length);
  };
  while (!finished) {
    await showNew();
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
  await showNew();
}
