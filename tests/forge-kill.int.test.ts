import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeProgress, TaskProgress } from '../domain/forge';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
import { waitFor } from './helpers/containers';
import { createTestEnv, type TestEnv } from './helpers/env';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

describe('killing the workers mid-forge', () => {
  let t: TestEnv;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    t = await createTestEnv();
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await t?.close();
  });

  it('loses nothing: after a restart the forge completes and the catalog holds only whole tasks', async () => {
    for (const kind of ['control', 'llm', 'cpu'] as const) workers.push(await startWorkerProcess(kind, t.env));
    const catalogDir = t.config.paths.catalog;
    const handle = await t.client.workflow.start<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-kill-${Date.now()}`,
      args: [
        {
          // two forecasts of its daily series (penguins has one task worth publishing, species)
          dataset: await exampleDatasetPath('seattle-weather', join(t.config.paths.home, 'examples')),
          name: 'seattle-weather',
          catalogDir,
          maxTasks: 2,
          repairRounds: 1,
          concurrency: 2,
        },
      ],
    });
    // Wait until a task is being verified in the sandbox, then kill the control and CPU workers.
    await waitFor(
      'a task in verification',
      async () => {
        const progress = await handle.query<ForgeProgress>('forgeProgress').catch(() => undefined);
        for (const task of progress?.tasks ?? []) {
          const p = await t.client.workflow
            .getHandle(task.workflowId)
            .query<TaskProgress>('taskProgress')
            .catch(() => undefined);
          if (p?.stage === 'verify') return true;
        }
        return undefined;
      },
      120_000,
    );
    const [control, , cpu] = workers;
    control!.child.kill('SIGKILL');
    cpu!.child.kill('SIGKILL');
    await Promise.all([control!.exited, cpu!.exited]);

    workers.push(await startWorkerProcess('control', t.env), await startWorkerProcess('cpu', t.env));
    const result = await handle.result();
    expect(result.tasks).toHaveLength(2);
    expect(result.tasks.filter((task) => task.status === 'verified').length).toBeGreaterThanOrEqual(1);

    // Some activity was retried after the kill: the work really was interrupted.
    let retried = 0;
    for (const task of result.tasks) {
      const history = await t.client.workflow.getHandle(`${result.workflowId}--${task.id}`).fetchHistory();
      retried += history.events!.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1).length;
    }
    expect(retried).toBeGreaterThan(0);

    expect(readdirSync(catalogDir).filter((name) => name.startsWith('.'))).toEqual([]);
    for (const task of result.tasks.filter((x) => x.status === 'verified')) {
      expect(readdirSync(task.path).sort()).toEqual([
        'description.md',
        'leaderboard.csv',
        'metric.py',
        'prepare.py',
        'private',
        'public',
        'raw',
        'solutions',
        'task.json',
        'verification.json',
      ]);
      expect(JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8')).status).toBe('verified');
    }
  });
});
