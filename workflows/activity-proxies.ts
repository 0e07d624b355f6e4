import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SandboxActivities } from '../activities/sandbox';
import type { SmokeActivities } from '../activities/smoke';
import { siblingQueue } from '../domain/queues';

/**
 * Sandbox runs go to the CPU (or GPU) queue beside this workflow's control queue. The run enforces
 * its own time limit, so startToClose is only a backstop; the heartbeat timeout is what notices a
 * lost worker and retries the run on another.
 */
export function sandboxActivities(kind: 'cpu' | 'gpu' = 'cpu') {
  return proxyActivities<SandboxActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, kind),
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: ['InvalidRunSpec'] },
  });
}

/** Cheap file work on the control queue itself. */
export const smokeActivities = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['UnknownDataset'] },
});
