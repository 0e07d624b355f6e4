import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { sandboxRun, sandboxSmoke } from '../workflows';
import { createTestEnv, type TestEnv } from './helpers/env';

// Histories recorded by earlier versions (`temporal workflow show --output json`) must replay on
// today's workflow code: a failure here means a change would break workflows already running.
const FIXTURES = join(__dirname, 'fixtures', 'histories');

async function replay(histories: { workflowId: string; history: unknown }[]) {
  const workflowBundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) results.push(r);
  return results;
}

describe('workflow determinism', () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv();
    await t.startWorker('control');
    await t.startWorker('cpu');
  });
  afterAll(() => t?.close());

  it('replays the committed histories of every workflow type without nondeterminism', async () => {
    // Workflows derive ids (children's, say) from their own: replay under the recorded id.
    const ids = JSON.parse(readFileSync(join(FIXTURES, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
    expect(Object.keys(ids).sort()).toEqual([...files].sort());
    const types = files.map((f) => f.split('-')[0]);
    expect(types).toEqual(
      expect.arrayContaining([
        'sandboxRun',
        'sandboxSmoke',
        'forgeDataset',
        'forgeTask',
        'verifyPackage',
        'gradeTask',
        'envSession',
        'synthesizeTasks',
        'rolloutBatch',
        'episode',
        'trainRun',
      ]),
    );
    const results = await replay(
      files.map((f) => ({ workflowId: ids[f]!, history: JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) })),
    );
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(files.map((f) => [ids[f], undefined]));
  });

  it('replays histories recorded just now', async () => {
    const smoke = await t.client.workflow.start<typeof sandboxSmoke>('sandboxSmoke', {
      taskQueue: t.controlQueue,
      workflowId: `replay-smoke-${Date.now()}`,
      args: [{}],
    });
    const run = await t.client.workflow.start<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId: `replay-run-${Date.now()}`,
      args: [{ code: 'print(6 * 7)' }],
    });
    await Promise.all([smoke.result(), run.result()]);
    const histories = await Promise.all(
      [smoke, run].map(async (h) => ({ workflowId: h.workflowId, history: await h.fetchHistory() })),
    );
    const results = await replay(histories);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r.error).toBeUndefined();
  });

  it('detects a history that does not match the code', async () => {
    // The same smoke history with its first activity renamed: replay must refuse it, proving the
    // checks above can fail.
    const history = JSON.parse(readFileSync(join(FIXTURES, 'sandboxSmoke-v1.json'), 'utf8'));
    const scheduled = history.events.find((e: Record<string, unknown>) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    const [result] = await replay([{ workflowId: 'tampered', history }]);
    expect(result!.error?.name).toBe('DeterminismViolationError');
  });
});
