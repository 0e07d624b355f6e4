import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { sandboxRun, sandboxSmoke } from '../workflows';
import { containersOf, waitFor } from './helpers/containers';
import { createTestEnv, type TestEnv } from './helpers/env';

describe('workflows through a real Temporal server and Docker engine', () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv();
    await t.startWorker('control');
    await t.startWorker('cpu');
  });
  afterAll(() => t?.close());

  it('sandboxSmoke trains on the penguins dataset in the sandbox and returns a real score', async () => {
    const result = await t.client.workflow.execute<typeof sandboxSmoke>('sandboxSmoke', {
      taskQueue: t.controlQueue,
      workflowId: `smoke-${Date.now()}`,
      args: [{ dataset: 'penguins' }],
    });
    expect(result.dataset).toBe('penguins');
    expect(result.metric).toBe('accuracy');
    expect(result.rows).toBe(342); // the rows with every measurement present
    // Species is nearly separable from the measurements; a broken pipeline scores near 0.44 (majority class).
    expect(result.score).toBeGreaterThan(0.9);
    expect(result.score).toBeLessThanOrEqual(1);
  });

  it('fails an unknown dataset at once, naming the known ones', async () => {
    const run = t.client.workflow.execute<typeof sandboxSmoke>('sandboxSmoke', {
      taskQueue: t.controlQueue,
      workflowId: `smoke-bad-${Date.now()}`,
      args: [{ dataset: 'no-such-data' }],
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as Error | undefined;
    expect(cause?.message).toMatch(/unknown example dataset "no-such-data"; choose one of: penguins/);
  });

  it('rejects an invalid run spec without retrying it', async () => {
    const handle = await t.client.workflow.start<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId: `bad-spec-${Date.now()}`,
      args: [{ code: '', limits: { memoryMb: 1 } }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause?.cause as Error | undefined)?.message).toMatch(
      /invalid run spec: code: code is empty.*limits\.memoryMb/,
    );
    const history = await handle.fetchHistory();
    const starts = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    expect(starts.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
  });

  it('cancelling the workflow stops its sandbox container within seconds', async () => {
    const workflowId = `cancel-${Date.now()}`;
    const handle = await t.client.workflow.start<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId,
      args: [{ code: 'import time\ntime.sleep(300)' }],
    });
    await waitFor('the run container', async () =>
      (await containersOf(t.docker, workflowId)).length ? true : undefined,
    );
    const cancelledAt = Date.now();
    await handle.cancel();
    await waitFor(
      'the container to go',
      async () => ((await containersOf(t.docker, workflowId)).length === 0 ? true : undefined),
      10_000,
    );
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
  });
});
