import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingDetails } from '../cli/commands/train';
import type { TrainingHeartbeat, TrainingSpec } from '../domain/training';
import { DockerSandbox } from '../sandbox/docker';
import type { trainRun } from '../workflows';
import { containersOf, waitFor } from './helpers/containers';
import { createTestEnv, type TestEnv } from './helpers/env';
import { penguinsDataDir, range, TRAIN_PY } from './helpers/penguins-training';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

describe('long-running training', () => {
  let t: TestEnv;
  let dataDir: string;
  const workers: WorkerProcess[] = [];
  const spec = (env: Record<string, string>, gpu: boolean): TrainingSpec => ({
    code: TRAIN_PY,
    dataDir,
    gpu,
    limits: { cpus: 1, memoryMb: 512, timeoutS: 900 },
    env,
  });
  const details = (workflowId: string) =>
    trainingDetails(t.client, t.client.workflow.getHandle(workflowId)).catch(() => undefined);

  beforeAll(async () => {
    t = await createTestEnv({ ANVIL_GPU_EMULATE: '1' });
    await t.startWorker('control');
    await t.startWorker('cpu');
    dataDir = penguinsDataDir(t.config.paths.home); // under the served roots
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams stdout lines to onStdoutLine, the last partial one included', async () => {
    const sandbox = new DockerSandbox(t.docker, { runsDir: join(t.config.paths.artifacts, 'runs') });
    const lines: string[] = [];
    const code =
      'import sys\nfor i in range(3000):\n    print(f"line {i} é", flush=i % 500 == 0)\nsys.stdout.write("partial")';
    const result = await sandbox.run(
      { code, limits: { ...t.config.sandbox.limits, outputBytes: 4096 } },
      { runKey: `train-lines/${process.pid}`, onStdoutLine: (l) => lines.push(l) },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputTruncated).toBe(true); // the capture is capped, the line feed is not
    expect(lines).toEqual([...Array.from({ length: 3000 }, (_, i) => `line ${i} é`), 'partial']);
  });

  it('anvil train runs a script and prints its progress; --watch follows a run by id', async () => {
    const script = join(dataDir, 'short.py');
    const anvil = (args: string[]) =>
      promisify(execFile)(process.execPath, [join(__dirname, '..', 'bin', 'anvil.js'), 'train', ...args], {
        env: t.env,
      });
    // the CLI passes no env to the script: set its knobs in the script itself
    writeFileSync(
      script,
      `import os\nos.environ.update(STEPS="6", CHECKPOINT_EVERY="3", STEP_SLEEP="1.5")\n${TRAIN_PY}`,
    );
    const { stdout, stderr } = await anvil([script, '--data', dataDir, '--timeout', '120']);
    expect(stderr).toMatch(/trainRun (train-short-\d+) started on the cpu queue/);
    expect(stderr).toMatch(/\] attempt 1, step \d, epoch [\d.]+, loss [\d.]+/);
    expect(stdout).toMatch(
      /^finished: attempt 1, step 6, epoch [\d.]+, accuracy [\d.]+, checkpoint checkpoints\/step-00006.npz, — done\nworkspace: \//,
    );
    const workflowId = /trainRun (\S+) started/.exec(stderr)![1]!;
    const watched = JSON.parse((await anvil(['--watch', workflowId, '--json'])).stdout);
    expect(watched).toMatchObject({ workflowId, step: 6, checkpoint: 'checkpoints/step-00006.npz', attempt: 1 });
  });

  it('a GPU-queue run (CPU-emulated) whose worker is killed resumes from its last heartbeat checkpoint and never repeats earlier steps', async () => {
    // 24 s of training unbroken (0.4 s a step, heartbeats at most 2 s apart): the kill comes near
    // step 12, and the restarted worker removes the orphaned container long before step 60.
    const STEPS = 60;
    workers.push(await startWorkerProcess('gpu', t.env));
    const workflowId = `train-kill-${Date.now()}`;
    const handle = await t.client.workflow.start<typeof trainRun>('trainRun', {
      taskQueue: t.controlQueue,
      workflowId,
      args: [spec({ STEPS: String(STEPS), CHECKPOINT_EVERY: '5', STEP_SLEEP: '0.4' }, true)],
    });
    // Kill the worker once Temporal holds a checkpoint from step 10 on.
    const seen = await waitFor(
      'a heartbeat with a checkpoint',
      async () => {
        const d = await details(workflowId);
        return d?.checkpoint && (d.checkpointStep ?? 0) >= 10 ? d : undefined;
      },
      150_000,
    );
    workers[0]!.child.kill('SIGKILL');
    await workers[0]!.exited;
    workers.push(await startWorkerProcess('gpu', t.env));

    const result = await handle.result();
    const resumedStep = Number(/step-(\d+)\.npz$/.exec(result.resumedFrom ?? '')?.[1]);
    expect(result.attempt).toBeGreaterThanOrEqual(2);
    // the checkpoint heartbeated before the kill (or, if one more got out before it died, that one)
    expect(resumedStep).toBeGreaterThanOrEqual(seen.checkpointStep!);
    expect(resumedStep).toBeLessThan(STEPS);
    expect(result).toMatchObject({ step: STEPS, message: 'done', metric: { name: 'accuracy' } });
    expect(result.metric!.value).toBeGreaterThan(0.9);

    // The step log is attempt 1 (steps 1..k, k >= the checkpoint) then attempt 2 (checkpoint+1..end):
    // every step ran, and none up to the checkpoint ran twice.
    const steps = readFileSync(join(result.workspaceDir, 'steps.log'), 'utf8').split('\n').filter(Boolean).map(Number);
    const drop = steps.findIndex((s, i) => i > 0 && s <= steps[i - 1]!);
    const lastOfFirst = drop === -1 ? resumedStep : steps[drop - 1]!;
    expect(lastOfFirst).toBeGreaterThanOrEqual(resumedStep);
    expect(lastOfFirst, 'the kill cut attempt 1 short').toBeLessThan(STEPS);
    expect(steps).toEqual([...range(1, lastOfFirst), ...range(resumedStep + 1, STEPS)]);
    for (let s = 1; s <= resumedStep; s++)
      expect(
        steps.filter((x) => x === s),
        `step ${s}`,
      ).toHaveLength(1);
    expect(existsSync(join(result.workspaceDir, result.resumedFrom!))).toBe(true);
    expect(await containersOf(t.docker, workflowId)).toEqual([]);
  }, 240_000);

  it('a cancelled run stops its container within 10 s and keeps its checkpoints', async () => {
    const workflowId = `train-cancel-${Date.now()}`;
    const handle = await t.client.workflow.start<typeof trainRun>('trainRun', {
      taskQueue: t.controlQueue,
      workflowId,
      args: [spec({ STEPS: '100000', CHECKPOINT_EVERY: '2', STEP_SLEEP: '0.2' }, false)],
    });
    const running: TrainingHeartbeat = await waitFor('a running container with a checkpoint', async () => {
      const d = await details(workflowId);
      const up = (await containersOf(t.docker, workflowId)).some((c) => c.State === 'running');
      return up && d?.checkpoint ? d : undefined;
    });
    await handle.cancel();
    const cancelledAt = Date.now();
    await waitFor(
      'the container to be gone',
      async () => ((await containersOf(t.docker, workflowId)).length === 0 ? true : undefined),
      10_000,
    );
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);

    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    // WAIT_CANCELLATION_COMPLETED: the activity reported its cancel (container stopped) first.
    const events = (await handle.fetchHistory()).events!;
    expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
    expect(existsSync(join(running.workspaceDir, running.checkpoint!))).toBe(true);
    expect(readFileSync(join(running.workspaceDir, 'steps.log'), 'utf8')).toMatch(/^1\n2\n/);
  }, 120_000);
});
