import { existsSync, readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvAction, Observation, RunSummary } from '../../domain/env';
import { heldOutOf, runOutcome } from '../../domain/outcomes';
import { retake, type SessionState, type StepTerms, step, stepTimings } from '../../domain/session';
import type { SandboxLimits } from '../../domain/sandbox';
import { DEFAULT_SANDBOX_PROFILE, type SandboxProfile, sandboxProfileOf, taskManifestSchema } from '../../domain/task';
import { packagePaths } from '../../package/layout';
import type { ArtifactStore } from '../../package/store';
import type { Trajectories } from '../../package/trajectories';
import type { Sandbox } from '../../sandbox/sandbox';
import type { WarmDockerSandbox, WarmSessionSpec } from '../../sandbox/warm';
import { markClosed, sweepClosed } from '../../sandbox/workspace-quota';
import { type GradeResult, gradeInSandbox } from '../grading';
import { runKey, withHeartbeat } from '../heartbeat';
import { snapshotSession, takeSession } from './session-store';

/** What the agent reads of each stream: its last part. */
const TAIL_CHARS = 8000;

export interface StepInput {
  envId: string;
  packageDir: string;
  code: string;
  limits: Pick<SandboxLimits, 'cpus' | 'memoryMb' | 'timeoutS'>;
}

export interface StepRun {
  run: RunSummary;
  /** undefined when the run failed or left no submission.csv */
  submission?: GradeResult;
}

export interface EnvSandboxDeps {
  /** one-shot containers, for grading */
  sandbox: Sandbox;
  warm: WarmDockerSandbox;
  /** where sessions' workspaces live on this host */
  sessionsDir: string;
  scratchDir: string;
  /** the task queue only this host's workers poll: a session's steps follow its container here */
  hostQueue: string;
  /** a closed session's workspace is removed this long after the close */
  workspaceRetentionS: number;
  /** the shared store: session ownership (epochs) and workspace snapshots; unset = host-local only */
  store?: ArtifactStore;
  /** where steps are recorded (package/trajectories.ts) */
  trajectories: Trajectories;
}

/** A code step to run and record in one activity: what the workflow knows before it runs. */
export interface RecordedStepInput extends StepInput {
  taskId: string;
  action: Extract<EnvAction, 'validate_code' | 'execute_code'>;
  params: Record<string, unknown>;
  /** the session as `startStep` left it; its history may be left out (the workflow keeps it) */
  session: SessionState;
  terms: StepTerms;
  /** the session moved to this host for this step (its /workspace started empty) */
  moved: boolean;
  /** the session's placement count: this host owns the session as this epoch (unset in older histories) */
  epoch?: number;
  /** the trajectory's ref (package/trajectories.ts) */
  trajectory: string;
  startedAtMs: number;
}

export interface RecordedStep {
  state: SessionState;
  observation: Observation;
  reward: number;
}

const tail = (text: string) => (text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text);

/**
 * Sandbox activities of a Dojo session. `placeSession` runs on the shared CPU/GPU queue and
 * answers with this host's queue; the session's steps then run there, beside its warm container.
 */
/** The sandbox profile the task's manifest names (the default when it names none or cannot be read). */
function profileOfPackage(packageDir: string): SandboxProfile {
  try {
    const manifest = JSON.parse(readFileSync(packagePaths(packageDir).manifest, 'utf8')) as { sandbox?: unknown };
    const sandbox = taskManifestSchema.shape.sandbox.safeParse(manifest.sandbox);
    return sandboxProfileOf({ sandbox: sandbox.success ? sandbox.data : undefined });
  } catch {
    return DEFAULT_SANDBOX_PROFILE; // no readable manifest: the step fails on its own terms, in the default image
  }
}

export function createEnvSandboxActivities({
  sandbox,
  warm,
  sessionsDir,
  scratchDir,
  hostQueue,
  workspaceRetentionS,
  store,
  trajectories,
}: EnvSandboxDeps) {
  const workspaceOf = (envId: string) => join(sessionsDir, envId.replace(/[^A-Za-z0-9_.-]+/g, '_'), 'workspace');
  const spec = (envId: string, packageDir: string, limits: StepInput['limits']): WarmSessionSpec => ({
    sessionKey: envId,
    dataDir: packagePaths(packageDir).public,
    workspaceDir: workspaceOf(envId),
    limits: { ...limits, pids: 256, outputBytes: 256 * 1024, tmpMb: 256 },
    profile: profileOfPackage(packageDir),
  });

  /**
   * Runs one step's code in the session's container, then grades what it wrote (the workflow decides what
   * the agent learns of it).
   */
  async function runStep({ envId, packageDir, code, limits }: StepInput): Promise<StepRun> {
    const session = spec(envId, packageDir, limits);
    return withHeartbeat(async (signal, phase) => {
      phase('running');
      // Only what this step writes is graded, never a file an earlier step left.
      await rm(join(session.workspaceDir, 'submission.csv'), { force: true });
      const run = await warm.exec(session, code, signal);
      const summary: RunSummary = {
        exitCode: run.exitCode,
        timedOut: run.timedOut,
        oomKilled: run.oomKilled,
        wallMs: run.wallMs,
        stdout: tail(run.stdout),
        stderr: tail(run.stderr),
        outputTruncated: run.outputTruncated,
      };
      const file = join(run.workspaceDir, 'submission.csv');
      if (run.exitCode !== 0 || !existsSync(file)) return { run: summary };
      phase('grading');
      const submission = await gradeInSandbox(sandbox, {
        packageDir,
        submissionFile: file,
        scratchDir,
        runKey: runKey('grade'),
        signal,
      });
      return { run: summary, submission };
    });
  }

  /** The session's container exists (its workspace mounted), then this host takes the session as `epoch`. */
  async function takeOver(store: ArtifactStore, session: WarmSessionSpec, owned: Parameters<typeof takeSession>[1]) {
    await warm.ensure(session);
    return takeSession(store, owned);
  }

  /** Runs `work`; when the store says another host owns the session, this host's container is stopped first. */
  async function fenced<T>(envId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === 'FencedOut') await warm.stop(envId);
      throw err;
    }
  }

  return {
    async placeSession(): Promise<{ queue: string }> {
      return { queue: hostQueue };
    },

    runStep,

    /**
     * One code step in one round trip: run, grade, apply the session's rules and append the step to
     * the trajectory. Idempotent by step number: a retry of a step the trajectory already holds (its
     * attempt was lost after the append) answers from the record and runs nothing again.
     */
    async runAndRecord(input: RecordedStepInput): Promise<RecordedStep> {
      const { envId, taskId, action, params, session, terms, moved, trajectory, startedAtMs } = input;
      const recorded = await trajectories.recorded(trajectory, session.stepsUsed);
      if (recorded) return retake(session, { ...recorded, endedAtMs: Date.parse(recorded.timings.endedAt) }, terms);
      const owned = store && input.epoch ? { envId, epoch: input.epoch, workspaceDir: workspaceOf(envId) } : undefined;
      const taken = owned
        ? await fenced(envId, () => takeOver(store!, spec(envId, input.packageDir, input.limits), owned))
        : undefined;
      const ran = await runStep(input);
      // The workspace as this step left it, for a host the session may move to; a lost host is refused here.
      if (owned) await fenced(envId, () => snapshotSession(store!, owned));
      const grade = action === 'validate_code' ? 'check' : 'score';
      // A moved session whose workspace came back from its snapshot lost nothing the agent must hear of.
      const emptied = moved && (taken === undefined || taken === 'fresh');
      const outcome = runOutcome(ran, { grade, limits: input.limits, task: terms.task, moved: emptied });
      const held = outcome.score ? heldOutOf(ran, terms) : undefined;
      const endedAtMs = Date.now();
      const { state, observation, reward } = step(session, action, outcome, terms, endedAtMs, { held });
      const entry = {
        envId,
        taskId,
        step: observation.step,
        action,
        params,
        observation,
        reward,
        done: observation.done,
        ...(held ? { hidden: held } : {}),
      };
      await trajectories.append(trajectory, { ...entry, timings: stepTimings(startedAtMs, endedAtMs) });
      return { state, observation, reward };
    },

    /** A fresh, empty /workspace in the same container; nothing of the last steps keeps running. */
    async resetSession({
      envId,
      packageDir,
      limits,
    }: Pick<StepInput, 'envId' | 'packageDir' | 'limits'>): Promise<void> {
      await warm.reset(spec(envId, packageDir, limits));
    },

    /** Ends the session's container; its workspace goes once the retention has passed (with older ones). */
    async stopSession({ envId }: { envId: string }): Promise<void> {
      await warm.stop(envId);
      await markClosed(workspaceOf(envId));
      await sweepClosed(sessionsDir, workspaceRetentionS);
    },
  };
}

export type EnvSandboxActivities = ReturnType<typeof createEnvSandboxActivities>;
