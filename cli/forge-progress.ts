import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ForgeProgress, TaskProgress } from '../domain/forge';

/** Prints each change of a forge's stage and of each task's stage and round, until `done` settles. */
export async function showForgeProgress(
  client: Client,
  handle: WorkflowHandle,
  done: Promise<unknown>,
  print = (line: string) => process.stderr.write(`${line}\n`),
): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  const started = Date.now();
  const seen = new Map<string, string>();
  const say = (key: string, line: string) => {
    if (seen.get(key) === line) return;
    seen.set(key, line);
    print(`  [${Math.round((Date.now() - started) / 1000)}s] ${line}`);
  };
  while (!finished) {
    try {
      const forge = await handle.query<ForgeProgress>('forgeProgress');
      say('forge', forge.stage === 'tasks' ? `${forge.tasks.length} task formulations` : forge.stage);
      for (const task of forge.tasks) {
        if (task.status !== 'running') {
          say(task.id, `${task.id}: ${task.status}`);
          continue;
        }
        const p = await client.workflow
          .getHandle(task.workflowId)
          .query<TaskProgress>('taskProgress')
          .catch(() => undefined);
        if (p) say(task.id, `${task.id}: ${p.stage}${p.round > 0 ? ` (repair round ${p.round})` : ''}`);
      }
    } catch {
      // not queryable yet (no worker has run its first task); try again
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
}
