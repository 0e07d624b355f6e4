import { ApplicationFailure } from '@temporalio/activity';
import { type RunResult, type RunSpec, runSpecSchema, type SandboxLimits } from '../domain/sandbox';
import type { Sandbox } from '../sandbox/sandbox';
import { confinedPath } from './confine';
import { runKey, withHeartbeat } from './heartbeat';

export interface SandboxActivityDeps {
  sandbox: Sandbox;
  /** limits a spec does not set */
  defaults: SandboxLimits;
  /** the folders a spec's dataDir and workspaceDir must lie under (activities/confine.ts) */
  roots: string[];
}

export function createSandboxActivities({ sandbox, defaults, roots }: SandboxActivityDeps) {
  return {
    /**
     * Runs Python in a fresh sandbox. Heartbeats while it runs, so a lost worker is noticed within
     * the heartbeat timeout and the run retried elsewhere; a cancel kills the container at once.
     */
    async runInSandbox(spec: RunSpec): Promise<RunResult> {
      const parsed = runSpecSchema.safeParse(spec);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ');
        throw ApplicationFailure.nonRetryable(`invalid run spec: ${why}`, 'InvalidRunSpec');
      }
      const { dataDir, workspaceDir } = parsed.data;
      if (dataDir) parsed.data.dataDir = confinedPath(dataDir, roots, 'dataDir');
      if (workspaceDir) parsed.data.workspaceDir = confinedPath(workspaceDir, roots, 'workspaceDir');
      const key = runKey();
      return withHeartbeat((signal, phase) => {
        phase('running');
        // `gpu` only routed the run to this queue; a GPU worker's sandbox hands out the device itself.
        return sandbox.run({ ...parsed.data, limits: { ...defaults, ...parsed.data.limits } }, { runKey: key, signal });
      });
    },
  };
}

export type SandboxActivities = ReturnType<typeof createSandboxActivities>;
