import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { describeRunEnd, type SandboxLimits } from '../domain/sandbox';
import {
  applyProgress,
  parseProgressLine,
  TRAINING_CHECKPOINT_DIR,
  TRAINING_DATA_DIR,
  TRAINING_DEFAULT_TIMEOUT_S,
  TRAINING_WORKSPACE,
  type TrainingHeartbeat,
  type TrainingResult,
  type TrainingSpec,
  trainingSpecSchema,
  workspaceRelative,
} from '../domain/training';
import { assertReadableByOthers } from '../sandbox/docker';
import type { StoreMirror } from '../package/store/mirror';
import { confinedPath } from './confine';
import { openToSandbox } from './workspace-permissions';
import type { Sandbox } from '../sandbox/sandbox';
import { runKey } from './heartbeat';

export interface TrainingActivityDeps {
  sandbox: Sandbox;
  /** the host's artifact store; workspaces live under `<artifactsDir>/training/` */
  artifactsDir: string;
  /** limits a spec does not set (the time limit defaults to TRAINING_DEFAULT_TIMEOUT_S) */
  defaults: SandboxLimits;
  /** the folders a spec's dataDir must lie under (activities/confine.ts) */
  roots: string[];
  /**
   * S3 mode (hosts share no folder): the store's copy of workspaces. Each checkpoint is pushed before
   * a heartbeat names it, and an attempt that resumes pulls the workspace first, so a retry on another
   * host resumes from the last checkpoint too. Unset (a shared folder): nothing moves.
   */
  checkpoints?: Pick<StoreMirror, 'pull' | 'push'>;
}

const TAIL_CHARS = 4000;

/** A path segment from any id: kept when already safe, else sanitised and made unique by a hash. */
function segment(id: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(id)) return id;
  return `${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60)}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

/** The run's workspace: the same for every attempt of one activity, never deleted by Anvil. */
export function trainingWorkspace(artifactsDir: string, workflowId: string, runId: string, activityId: string): string {
  return resolve(artifactsDir, 'training', segment(workflowId), segment(runId), segment(activityId), 'workspace');
}

/** The checkpoint a previous attempt reported, if it is a real file or folder inside the workspace. */
async function resumableCheckpoint(
  workspaceDir: string,
  reported: unknown,
): Promise<{ checkpoint?: string; why?: string }> {
  if (typeof reported !== 'string') return {};
  const rel = workspaceRelative(reported);
  if (!rel) return { why: `checkpoint "${reported}" is outside the workspace` };
  const full = join(workspaceDir, rel);
  const info = await lstat(full).catch(() => undefined);
  if (!info) return { why: `checkpoint ${rel} is not in ${workspaceDir}` };
  if (info.isSymbolicLink()) return { why: `checkpoint ${rel} is a symbolic link` };
  const [real, root] = await Promise.all([realpath(full), realpath(workspaceDir)]);
  if (!real.startsWith(root + sep)) return { why: `checkpoint ${rel} resolves outside the workspace` };
  return { checkpoint: rel };
}

const tail = (text: string, chars = TAIL_CHARS) => (text.length > chars ? `…${text.slice(-chars)}` : text);

export function createTrainingActivities({
  sandbox,
  artifactsDir,
  defaults,
  roots,
  checkpoints,
}: TrainingActivityDeps) {
  return {
    /**
     * Runs a training script in a sandbox with a workspace that outlives attempts, heartbeating its
     * progress (the `ANVIL_PROGRESS` lines it prints) every second. A retry after a lost worker
     * resumes from the checkpoint in the last heartbeat; a cancel kills the container at once and
     * keeps the workspace.
     */
    async runTraining(spec: TrainingSpec): Promise<TrainingResult> {
      const parsed = trainingSpecSchema.safeParse(spec);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ');
        throw ApplicationFailure.nonRetryable(`invalid training spec: ${why}`, 'InvalidTrainingSpec');
      }
      // `gpu` only routed the run to the GPU queue; a GPU worker's sandbox hands out the device.
      const { code, env } = parsed.data;
      const dataDir = parsed.data.dataDir && confinedPath(parsed.data.dataDir, roots, 'dataDir');
      if (dataDir) {
        try {
          await assertReadableByOthers(dataDir);
        } catch (err) {
          throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidTrainingSpec');
        }
      }
      const limits: SandboxLimits = { ...defaults, timeoutS: TRAINING_DEFAULT_TIMEOUT_S, ...parsed.data.limits };

      const ctx = Context.current();
      const { info } = ctx;
      const workspaceDir = trainingWorkspace(
        artifactsDir,
        info.workflowExecution?.workflowId ?? 'no-workflow',
        info.workflowExecution?.runId ?? 'no-run',
        info.activityId,
      );
      const checkpointDir = join(workspaceDir, 'checkpoints');
      await mkdir(checkpointDir, { recursive: true });
      // the sandbox user is not the worker's user
      await chmod(workspaceDir, 0o777);
      await chmod(checkpointDir, 0o777);

      const previous = (info.heartbeatDetails ?? {}) as Partial<TrainingHeartbeat>;
      if (checkpoints && previous.checkpoint) {
        await checkpoints.pull([workspaceDir]);
        await openToSandbox(workspaceDir);
      }
      const { checkpoint: resumedFrom, why } = await resumableCheckpoint(workspaceDir, previous.checkpoint);
      if (why) ctx.log.warn(`attempt ${info.attempt} cannot resume: ${why}; training starts from scratch`);
      if (resumedFrom) ctx.log.info(`attempt ${info.attempt} resumes from checkpoint ${resumedFrom}`);

      const started = Date.now();
      let state: TrainingHeartbeat = {
        phase: 'starting',
        attempt: info.attempt,
        workspaceDir,
        elapsedS: 0,
        ...(resumedFrom
          ? {
              resumedFrom,
              checkpoint: resumedFrom,
              checkpointStep: previous.checkpointStep,
              step: previous.checkpointStep,
            }
          : {}),
      };
      // What heartbeats name as the resume point: with a store, only a checkpoint already pushed to it.
      let durable: Pick<TrainingHeartbeat, 'checkpoint' | 'checkpointStep'> = {
        checkpoint: state.checkpoint,
        checkpointStep: state.checkpointStep,
      };
      const beat = () => ctx.heartbeat({ ...state, ...durable, elapsedS: Math.round((Date.now() - started) / 1000) });
      let pushing = Promise.resolve();
      const recordCheckpoint = () => {
        const reached = { checkpoint: state.checkpoint, checkpointStep: state.checkpointStep };
        if (!checkpoints) return ((durable = reached), beat());
        pushing = pushing
          .then(() => checkpoints.push([workspaceDir]))
          .then(
            () => ((durable = reached), beat()),
            (err: Error) => ctx.log.warn(`checkpoint ${reached.checkpoint} not pushed to the store: ${err.message}`),
          );
      };
      const onStdoutLine = (line: string) => {
        const parsedLine = parseProgressLine(line);
        if (!parsedLine) return;
        if (!parsedLine.ok) {
          state = { ...state, protocolError: parsedLine.error };
          return;
        }
        state = { ...applyProgress(state, parsedLine.update), updatedAt: new Date().toISOString() };
        if (parsedLine.update.checkpoint) recordCheckpoint(); // a new resume point: record it without waiting
      };
      beat();
      const timer = setInterval(beat, 1000);
      let result;
      try {
        state = { ...state, phase: 'running' };
        result = await sandbox.run(
          {
            code,
            dataDir,
            workspaceDir,
            limits,
            env: {
              ...env,
              PYTHONUNBUFFERED: '1',
              ANVIL_WORKSPACE: TRAINING_WORKSPACE,
              ANVIL_CHECKPOINT_DIR: TRAINING_CHECKPOINT_DIR,
              ANVIL_ATTEMPT: String(info.attempt),
              ...(dataDir ? { ANVIL_DATA_DIR: TRAINING_DATA_DIR } : {}),
              ...(resumedFrom ? { ANVIL_RESUME_FROM: `${TRAINING_WORKSPACE}/${resumedFrom}` } : {}),
            },
          },
          { runKey: runKey(), signal: ctx.cancellationSignal, onStdoutLine },
        );
      } catch (err) {
        // A cancelled run ends as the cancellation Temporal asked for; the workspace stays.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw err;
      } finally {
        clearInterval(timer);
      }
      await pushing; // the last checkpoint's push (its failure was logged: the result's own push follows)

      if (result.exitCode !== 0) {
        const where = state.checkpoint
          ? `its last checkpoint ${state.checkpoint} is kept in ${workspaceDir}`
          : `nothing was checkpointed (workspace ${workspaceDir})`;
        throw ApplicationFailure.create({
          type: 'TrainingFailed',
          nonRetryable: true,
          message: `training code ${describeRunEnd(result, limits)} at step ${state.step ?? '?'}; ${where}. Fix the script and start a new run; its stderr ends with:\n${tail(result.stderr, 2000)}`,
          details: [{ workspaceDir, checkpoint: state.checkpoint, step: state.step }],
        });
      }
      const { step, epoch, metric, checkpoint, checkpointStep, message } = state;
      return {
        step,
        epoch,
        metric,
        checkpoint,
        checkpointStep,
        message,
        attempt: info.attempt,
        resumedFrom,
        workspaceDir,
        checkpointDir,
        wallMs: result.wallMs,
        stdoutTail: tail(result.stdout),
        stderrTail: tail(result.stderr),
      };
    },
  };
}

export type TrainingActivities = ReturnType<typeof createTrainingActivities>;
