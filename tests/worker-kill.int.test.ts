import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { sandboxRun } from '../workflows';
import { containersOf, waitFor } from './helpers/containers';
import { createTestEnv, type TestEnv } from './helpers/env';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

describe('a CPU worker killed while runInSandbox runs', () => {
  let t: TestEnv;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    t = await createTestEnv();
    await t.startWorker('control');
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await t?.close();
  });

  it('is replaced by a new worker that reaps the orphan, retries the run and completes the workflow', async () => {
    const first = await startWorkerProcess('cpu', t.env);
    workers.push(first);
    const workflowId = `kill-${Date.now()}`;
    const handle = await t.client.workflow.start<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId,
      args: [{ code: 'import time\ntime.sleep(4)\nprint("finished")' }],
    });
    const [orphan] = await waitFor("the first attempt's container", async () => {
      const found = await containersOf(t.docker, workflowId);
      return found.some((c) => c.State === 'running') ? found : undefined;
    });

    first.child.kill('SIGKILL');
    await first.exited;
    // The dead worker could not clean up: its container is an orphan now.
    expect((await containersOf(t.docker, workflowId)).map((c) => c.Id)).toContain(orphan!.Id);

    const second = await startWorkerProcess('cpu', t.env);
    workers.push(second);
    // Reaped at start, before the new worker polls.
    expect((await containersOf(t.docker, workflowId)).map((c) => c.Id)).not.toContain(orphan!.Id);

    const result = await handle.result();
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe('finished');

    const history = await handle.fetchHistory();
    const attempts = history
      .events!.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts.at(-1)).toBeGreaterThanOrEqual(2);
    expect(await containersOf(t.docker, workflowId)).toEqual([]);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
