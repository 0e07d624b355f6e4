import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeResult } from '../domain/forge';
import type { RolloutResult } from '../domain/rollouts';
import { exampleDatasetPath } from '../examples/forge-datasets';
import { openTrajectories } from '../package/trajectories';
import type { forgeDataset, rolloutBatch, trainRun } from '../workflows';
import { trainingDetails } from '../cli/commands/train';
import { waitFor } from './helpers/containers';
import { envService } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { penguinsDataDir, range, TRAIN_PY } from './helpers/penguins-training';
import { type S3TestServer, startS3TestServer } from './helpers/s3-test-server';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

/**
 * A forge across two hosts that share no folder, only a bucket (S3 mode): host A runs the control
 * and llm workers, host B the cpu worker. Both see `paths.home` at the same path, as hosts with one
 * layout do: B's is the real folder (its sandbox containers mount it), A's workers run in a mount
 * namespace of their own with another folder bound over it. Every draft, prepared split and report
 * crosses between them through the store only; then the published task is played (a Dojo session
 * whose steps run and are graded on B, a rollout), its catalog copy and trajectories from the store.
 */
describe('a forge across two hosts with the artifact store on S3', () => {
  let s3: S3TestServer;
  let t: TestEnv;
  let hostA: string;
  let forged: string | undefined;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    s3 = await startS3TestServer('anvil-sync-forge');
    t = await createTestEnv({ ...s3.env, ANVIL_S3_PREFIX: 'forge/' });
    // This process is a client of the cluster too (the catalog's task list, trajectories): the bucket's
    // credentials reach the AWS SDK the usual way, from the environment.
    process.env.AWS_ACCESS_KEY_ID = s3.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = s3.env.AWS_SECRET_ACCESS_KEY;
    const home = t.config.paths.home;
    hostA = mkdtempSync(join(tmpdir(), 'anvil-sync-host-a-'));
    const ownHome = [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" "$1" && shift && exec "$@"',
    ];
    for (const kind of ['control', 'llm'] as const)
      workers.push(await startWorkerProcess(kind, t.env, [...ownHome, hostA, home]));
    workers.push(await startWorkerProcess('cpu', t.env));
  }, 180_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await t?.close();
    s3?.stop();
    if (hostA) rmSync(hostA, { recursive: true, force: true });
  });

  it('verifies and publishes a task whose verification ran on the other host', async () => {
    const datasets = mkdtempSync(join(tmpdir(), 'anvil-sync-data-'));
    const result = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-two-hosts-${Date.now()}`,
      args: [
        {
          dataset: await exampleDatasetPath('penguins', datasets),
          name: 'penguins',
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          repairRounds: 1,
          concurrency: 1,
        },
      ],
    });
    const output = workers.map((w) => w.output()).join('\n');
    const verified = (result as ForgeResult).tasks.filter((task) => task.status === 'verified');
    expect(verified.length, `${JSON.stringify(result.tasks, null, 1)}\n${output}`).toBe(1);

    // Published on A (its control worker), from files B's prepare run wrote into the draft.
    const [task] = verified;
    forged = task!.id;
    const published = join(hostA, 'catalog', task!.id);
    expect(JSON.parse(readFileSync(join(published, 'verification.json'), 'utf8')).status).toBe('verified');
    expect(existsSync(join(published, 'public', 'train.csv'))).toBe(true);

    // The hosts shared nothing: the dataset lives on A and in the store, never on B; B ran the sandbox.
    const artifactsB = t.config.paths.artifacts;
    expect(readdirSync(join(hostA, 'artifacts'))).toContain('datasets');
    expect(existsSync(join(artifactsB, 'datasets'))).toBe(false);
    expect(existsSync(join(artifactsB, 'forge'))).toBe(true);
    expect(existsSync(join(hostA, 'artifacts', 'runs'))).toBe(false);
    rmSync(datasets, { recursive: true, force: true });
  }, 400_000);

  it('plays the published task: a Dojo session graded on the other host, its trajectory and a rollout in the store', async () => {
    expect(forged, 'the forge above published a task').toBeDefined();
    const taskId = forged!;
    // B has not seen the task: A published it to the store from its own folder.
    expect(existsSync(join(t.config.paths.catalog, taskId))).toBe(false);
    const envs = envService(t);
    const { envId } = await envs.create({ taskId });
    const code =
      "import pandas as pd\npd.read_csv('/data/sample_submission.csv').to_csv('submission.csv', index=False)\n";
    const executed = await envs.step(envId, { action: 'execute_code', params: { code } });
    expect(executed.observation.status, JSON.stringify(executed.observation)).toBe('ok');
    expect(executed.observation.score?.raw).toEqual(expect.any(Number));
    // B's sandbox graded it from the task it fetched from the store, answers hidden as on any host.
    expect(existsSync(join(t.config.paths.catalog, taskId, 'public', 'train.csv'))).toBe(true);
    const state = await envs.close(envId);
    expect(state.trajectory).toMatch(/^store:trajectories\//);
    const steps = await openTrajectories(t.config).then((log) => log.read(state.trajectory));
    expect(steps?.map((e) => e.step)).toEqual([1]);

    const rollout: RolloutResult = await t.client.workflow.execute<typeof rolloutBatch>('rolloutBatch', {
      taskQueue: t.controlQueue,
      workflowId: `rollout-two-hosts-${Date.now()}`,
      args: [{ tasks: [taskId], policy: 'heuristic', samplesPerTask: 2, maxSteps: 2, concurrency: 2, seed: 7 }],
    });
    expect(rollout.episodes.map((e) => e.status)).toEqual(['completed', 'completed']);
    for (const episode of rollout.episodes) {
      expect(episode.trajectory).toMatch(/^store:/);
      expect((await openTrajectories(t.config).then((log) => log.read(episode.trajectory!)))?.length).toBeGreaterThan(
        0,
      );
    }
  }, 400_000);

  it('resumes a training run whose host was lost from the checkpoint in the store, on a host that never saw it', async () => {
    // The training data and the workspace live under paths.artifacts: the data reaches the store with
    // the first attempt (its input), each checkpoint before a heartbeat names it.
    const STEPS = 40;
    const gpuEnv = { ...t.env, ANVIL_GPU_EMULATE: '1' };
    const first = await startWorkerProcess('gpu', gpuEnv);
    workers.push(first);
    const workflowId = `train-two-hosts-${Date.now()}`;
    const handle = await t.client.workflow.start<typeof trainRun>('trainRun', {
      taskQueue: t.controlQueue,
      workflowId,
      args: [
        {
          code: TRAIN_PY,
          dataDir: penguinsDataDir(t.config.paths.artifacts),
          gpu: true,
          limits: { cpus: 1, memoryMb: 512, timeoutS: 900 },
          env: { STEPS: String(STEPS), CHECKPOINT_EVERY: '5', STEP_SLEEP: '0.4' },
        },
      ],
    });
    const seen = await waitFor(
      'a heartbeat with a checkpoint from step 10 on',
      async () => {
        const d = await trainingDetails(t.client, handle).catch(() => undefined);
        return d?.checkpoint && (d.checkpointStep ?? 0) >= 10 ? d : undefined;
      },
      150_000,
    );
    // The host is lost with its disk: its worker dies, and its workspace and sync records are gone.
    first.child.kill('SIGKILL');
    await first.exited;
    rmSync(join(t.config.paths.artifacts, 'training'), { recursive: true, force: true });
    rmSync(join(t.config.paths.home, '.sync', 'artifacts', 'training'), { recursive: true, force: true });
    workers.push(await startWorkerProcess('gpu', gpuEnv));

    const result = await handle.result();
    const resumedStep = Number(/step-(\d+)\.npz$/.exec(result.resumedFrom ?? '')?.[1]);
    expect(result.attempt).toBeGreaterThanOrEqual(2);
    expect(resumedStep).toBeGreaterThanOrEqual(seen.checkpointStep!);
    expect(result).toMatchObject({ step: STEPS, message: 'done', metric: { name: 'accuracy' } });
    // The step log came back from the store as of the checkpoint's push: no step up to the checkpoint
    // ran twice, and the second attempt ran every step after it.
    const steps = readFileSync(join(result.workspaceDir, 'steps.log'), 'utf8').split('\n').filter(Boolean).map(Number);
    for (let s = 1; s <= resumedStep; s++)
      expect(
        steps.filter((x) => x === s),
        `step ${s}`,
      ).toHaveLength(1);
    expect(steps.slice(-(STEPS - resumedStep))).toEqual(range(resumedStep + 1, STEPS));
  }, 300_000);
});
