import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { sandboxRun, trainRun, verifyPackage } from '../workflows';
import { envService, publishFixture } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { materializePackage } from './helpers/fixture-packages';

type Scheduled = temporal.api.history.v1.IActivityTaskScheduledEventAttributes;

async function scheduledActivities(t: TestEnv, workflowId: string): Promise<Scheduled[]> {
  const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events!.flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
  );
}

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
    const [scheduled] = await scheduledActivities(t, handle.workflowId);
    expect(scheduled!.taskQueue!.name).toBe(`${t.config.taskQueuePrefix}-gpu`);
  });

  it("a GPU task's validation runs (baseline, sample submission) go to the GPU queue", async () => {
    await t.startWorker('llm');
    await t.startWorker('cpu');
    const source = await materializePackage('iris-species', join(t.config.paths.home, 'gpu-task', 'iris-species'));
    const manifestFile = join(source, 'task.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, resources: { ...manifest.resources, gpu: true } }));
    const workflowId = `verify-gpu-${Date.now()}`;
    const report = await t.client.workflow.execute<typeof verifyPackage>('verifyPackage', {
      taskQueue: t.controlQueue,
      workflowId,
      args: [{ sourceDir: source }],
    });
    expect(report.status, JSON.stringify(report.checks.filter((c) => !c.passed))).toBe('verified');
    const queues = Object.fromEntries(
      (await scheduledActivities(t, workflowId)).map((a) => [a.activityType!.name!, a.taskQueue!.name!]),
    );
    expect(queues.runExecution).toBe(`${t.config.taskQueuePrefix}-gpu`);
    expect(queues.runAssertions).toBe(`${t.config.taskQueuePrefix}-cpu`); // prepare and the assertions need no GPU
  }, 300_000);

  it("a GPU task's Dojo session is placed on a GPU host and its steps run there", async () => {
    const published = await publishFixture(t, 'iris-species');
    const manifestFile = join(published, 'task.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, resources: { ...manifest.resources, gpu: true } }));

    const envs = envService(t);
    const { envId } = await envs.create({ taskId: 'iris-species' });
    const step = await envs.step(envId, { action: 'validate_code', params: { code: 'print(6 * 7)' } });
    expect(step.observation.status, JSON.stringify(step.observation)).toBe('ok');
    expect(step.observation.run!.stdout).toContain('42');
    await envs.close(envId);

    const queues = Object.fromEntries(
      (await scheduledActivities(t, envId)).map((a) => [a.activityType!.name!, a.taskQueue!.name!]),
    );
    const gpuQueue = `${t.config.taskQueuePrefix}-gpu`;
    expect(queues.placeSession).toBe(gpuQueue);
    expect(queues.runAndRecord).toMatch(new RegExp(`^${gpuQueue}-host-`));
  }, 300_000);
});

describe('a GPU worker on the local sandbox backend', () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv({ ANVIL_GPU_EMULATE: '1', ANVIL_SANDBOX_BACKEND: 'local' });
    await t.startWorker('control');
  });
  afterAll(() => t?.close());

  it('runs GPU runs as local processes (no GPU when emulated) and polls no session queue', async () => {
    const workers = await t.startWorker('gpu');
    expect(workers.map((w) => w.options.taskQueue)).toEqual([`${t.config.taskQueuePrefix}-gpu`]);
    const result = await t.client.workflow.execute<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId: `gpu-local-${Date.now()}`,
      args: [
        {
          code: 'import os\nprint(repr(os.environ["CUDA_VISIBLE_DEVICES"]), os.getcwd() == os.environ["ANVIL_WORKSPACE"])',
          gpu: true,
        },
      ],
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe("'' True");
  });

  it('runs a training run there with its workspace, checkpoint folder and progress on host paths', async () => {
    // Plain Python (the host's interpreter has no numpy): checkpoints are JSON files.
    const code = [
      'import json, os',
      'ck = os.environ["ANVIL_CHECKPOINT_DIR"]',
      'for step in (1, 2):',
      '    path = os.path.join(ck, f"step-{step}.json")',
      '    json.dump({"step": step, "cwd": os.getcwd()}, open(path, "w"))',
      '    print("ANVIL_PROGRESS " + json.dumps({"step": step, "checkpoint": os.path.relpath(path, os.environ["ANVIL_WORKSPACE"])}), flush=True)',
    ].join('\n');
    const result = await t.client.workflow.execute<typeof trainRun>('trainRun', {
      taskQueue: t.controlQueue,
      workflowId: `train-local-${Date.now()}`,
      args: [{ code, gpu: true }],
    });
    expect(result, result.stderrTail).toMatchObject({ step: 2, checkpoint: 'checkpoints/step-2.json', attempt: 1 });
    expect(result.checkpointDir.startsWith(result.workspaceDir)).toBe(true);
    expect(JSON.parse(readFileSync(join(result.checkpointDir, 'step-2.json'), 'utf8'))).toEqual({
      step: 2,
      cwd: result.workspaceDir,
    });
  });
});
