import { ApplicationFailure, Context } from '@temporalio/activity';
import { type RunResult, type RunSpec, runSpecSchema, type SandboxLimits } from '../domain/sandbox';
import type { Sandbox } from '../sandbox/sandbox';

export interface SandboxActivityDeps {
  sandbox: Sandbox;
  /** limits a spec does not set */
  defaults: SandboxLimits;
  /** give runs the host's GPUs (GPU workers); false on CPU workers and emulated GPU workers */
  attachGpus: boolean;
}

export function createSandboxActivities({ sandbox, defaults, attachGpus }: SandboxActivityDeps) {
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
      const ctx = Context.current();
      const { workflowExecution, activityId } = ctx.info;
      const runKey = `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
      const started = Date.now();
      ctx.heartbeat({ phase: 'starting' });
      const beat = setInterval(() => ctx.heartbeat({ phase: 'running', elapsedS: Math.round((Date.now() - started) / 1000) }), 1000);
      try {
        return await sandbox.run(
          { ...parsed.data, gpu: attachGpus, limits: { ...defaults, ...parsed.data.limits } },
          { runKey, signal: ctx.cancellationSignal },
        );
      } catch (err) {
        // A cancelled run ends as the cancellation Temporal asked for, not as a sandbox error.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type SandboxActivities = ReturnType<typeof createSandboxActivities>;
