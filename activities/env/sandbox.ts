import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '../../domain/env';
import type { SandboxLimits } from '../../domain/sandbox';
import { packagePaths } from '../../package/layout';
import type { Sandbox } from '../../sandbox/sandbox';
import type { WarmDockerSandbox, WarmSessionSpec } from '../../sandbox/warm';
import { type GradeResult, gradeInSandbox } from '../grading';
import { runKey, withHeartbeat } from '../heartbeat';

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
}

const tail = (text: string) => (text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text);

/**
 * Sandbox activities of a Dojo session. `placeSession` runs on the shared CPU/GPU queue and
 * answers with this host's queue; the session's steps then run there, beside its warm container.
 */
export function createEnvSandboxActivities({ sandbox, warm, sessionsDir, scratchDir, hostQueue }: EnvSandboxDeps) {
  const spec = (envId: string, packageDir: string, limits: StepInput['limits']): WarmSessionSpec => ({
    sessionKey: envId,
    dataDir: packagePaths(packageDir).public,
    workspaceDir: join(sessionsDir, envId.replace(/[^A-Za-z0-9_.-]+/g, '_'), 'workspace'),
    limits: { ...limits, pids: 256, outputBytes: 256 * 1024, tmpMb: 256 },
  });

  return {
    async placeSession(): Promise<{ queue: string }> {
      return { queue: hostQueue };
    },

    /** Runs one step's code in the session's container, then grades what it wrote (the workflow decides what the agent learns of it). */
    async runStep({ envId, packageDir, code, limits }: StepInput): Promise<StepRun> {
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
    },

    /** A fresh, empty /workspace in the same container; nothing of the last steps keeps running. */
    async resetSession({
      envId,
      packageDir,
      limits,
    }: Pick<StepInput, 'envId' | 'packageDir' | 'limits'>): Promise<void> {
      await warm.reset(spec(envId, packageDir, limits));
    },

    async stopSession({ envId }: { envId: string }): Promise<void> {
      await warm.stop(envId);
    },
  };
}

export type EnvSandboxActivities = ReturnType<typeof createEnvSandboxActivities>;
