import { hostname } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { Runtime, Worker } from '@temporalio/worker';
import { createEnvSandboxActivities } from '../activities/env/sandbox';
import { createLadderActivities } from '../activities/ladder';
import { createSandboxActivities } from '../activities/sandbox';
import { createSynthSandboxActivities } from '../activities/synth-sandbox';
import { createTrainingActivities } from '../activities/training';
import { createVerificationActivities } from '../activities/verification';
import { hostQueue, taskQueueName } from '../domain/queues';
import { openStore } from '../package/store';
import { openTrajectories } from '../package/trajectories';
import { GpuSlots, withGpuSlots } from '../sandbox/gpu-slots';
import { WarmDockerSandbox } from '../sandbox/warm';
import { inputRoots, readySandbox, scratchDir, type WorkerDeps } from './deps';
import { artifactMirror, artifactSync } from './store-sync';

/** placeSession where there are no warm containers: retryable, so another (Docker) host may take it. */
async function refusePlacement(): Promise<{ queue: string }> {
  throw ApplicationFailure.retryable(
    'this sandbox host uses the local backend, which serves no Dojo sessions: run a cpu/gpu worker with ANVIL_SANDBOX_BACKEND=docker for them',
    'NoSessionsHere',
  );
}

/**
 * The two workers of a sandbox host: one on the shared `<prefix>-cpu|gpu` queue (one-shot runs,
 * verification, placing Dojo sessions), one on this host's own queue (the steps of the sessions
 * whose warm containers live here).
 */
export async function createSandboxWorkers(
  deps: WorkerDeps,
  kind: 'cpu' | 'gpu',
  {
    gpus,
    concurrency,
  }: {
    /** this worker's GPU ids (none on CPU workers and emulated GPU workers) */ gpus: readonly string[];
    concurrency: number;
  },
): Promise<Worker[]> {
  const { connection, config, docker } = deps;
  const hostSandbox = await readySandbox(deps);
  // On a GPU worker every run takes one of its GPUs (none when emulated) and waits while all are busy.
  const sandbox = kind === 'gpu' ? withGpuSlots(hostSandbox, new GpuSlots(gpus)) : hostSandbox;
  const runsDir = join(config.paths.artifacts, 'runs');
  const ownQueue = hostQueue(config.taskQueuePrefix, kind, config.workers.hostId ?? hostname());
  // Dojo sessions live in warm Docker containers: a local-backend host serves none.
  const sessions = config.sandbox.backend === 'docker';
  if (!sessions)
    Runtime.instance().logger.warn(
      `the ${kind} worker uses the local sandbox backend: it runs one-shot sandbox work only, no Dojo sessions (they need a Docker sandbox host)`,
    );
  const warm = new WarmDockerSandbox(docker, {
    image: config.sandbox.image,
    runsDir,
    gpus,
    workspaceQuotaMb: config.sandbox.workspaceQuotaMb,
  });
  const sessionsDir = join(config.paths.artifacts, 'sessions');
  if (sessions) {
    const swept = await warm.sweepLeakedWorkspaces(sessionsDir);
    if (swept.length)
      Runtime.instance().logger.warn(`unmounted ${swept.length} leaked session workspace(s)`, { swept });
  }
  const env = createEnvSandboxActivities({
    sandbox: hostSandbox, // grading a step needs no GPU slot: the session's container holds the GPUs
    warm,
    sessionsDir,
    scratchDir: scratchDir(config),
    hostQueue: ownQueue,
    workspaceRetentionS: config.sandbox.workspaceRetentionS,
    // Sessions' ownership epochs and workspace snapshots, so a session moved here resumes its workspace.
    store: config.store.snapshots ? await openStore(config) : undefined,
    trajectories: await openTrajectories(config),
  });
  const synced = await artifactSync(config, deps.catalogs);
  const common = {
    connection,
    namespace: config.temporal.namespace,
    // Cancellation reaches an activity only with a heartbeat's reply: send them often enough
    // that a cancelled run's container is gone within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
  } as const;
  return Promise.all([
    Worker.create({
      ...common,
      taskQueue: taskQueueName(config.taskQueuePrefix, kind),
      activities: synced({
        ...createSandboxActivities({ sandbox, defaults: config.sandbox.limits, roots: inputRoots(config) }),
        ...createVerificationActivities({ sandbox, scratchDir: scratchDir(config) }),
        ...createSynthSandboxActivities({ sandbox, scratchDir: scratchDir(config) }),
        ...createLadderActivities({ sandbox, scratchDir: scratchDir(config) }),
        ...createTrainingActivities({
          sandbox,
          artifactsDir: config.paths.artifacts,
          defaults: config.sandbox.limits,
          roots: inputRoots(config),
          checkpoints: await artifactMirror(config),
        }),
        placeSession: sessions ? env.placeSession : refusePlacement,
      }),
      maxConcurrentActivityTaskExecutions: concurrency,
    }),
    ...(sessions
      ? [
          Worker.create({
            ...common,
            taskQueue: ownQueue,
            activities: synced({
              runStep: env.runStep, // steps of histories recorded before one-activity-per-step
              runAndRecord: env.runAndRecord,
              resetSession: env.resetSession,
              stopSession: env.stopSession,
            }),
            maxConcurrentActivityTaskExecutions: kind === 'gpu' ? concurrency : config.workers.sessionConcurrency,
          }),
        ]
      : []),
  ]);
}
