import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { sandboxRun } from '../workflows';
import { createTestEnv, type TestEnv } from './helpers/env';

// No GPU here: the GPU worker runs emulated (ANVIL_GPU_EMULATE=1), which still proves the routing.
describe('runs that ask for a GPU', () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv({ ANVIL_GPU_EMULATE: '1' });
    await t.startWorker('control');
    await t.startWorker('gpu');
  });
  afterAll(() => t?.close());

  it('go to the GPU queue and run there, never on a CPU worker', async () => {
    const handle = await t.client.workflow.start<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId: `gpu-${Date.now()}`,
      args: [{ code: 'print("on the gpu queue")', gpu: true }],
    });
    const result = await handle.result();
    expect(result.stdout.trim()).toBe('on the gpu queue');
    const history = await handle.fetchHistory();
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
    expect(scheduled.taskQueue!.name).toBe(`${t.config.taskQueuePrefix}-gpu`);
  });
});
