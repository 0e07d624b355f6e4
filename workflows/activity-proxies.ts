import { ActivityCancellationType, type ActivityOptions, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CatalogActivities } from '../activities/catalog';
import type { IntakeActivities } from '../activities/intake';
import type { LadderActivities } from '../activities/ladder';
import type { RoleActivities } from '../activities/roles';
import type { PolicyActivities } from '../activities/rollouts';
import type { SandboxActivities } from '../activities/sandbox';
import type { SmokeActivities } from '../activities/smoke';
import type { SynthPackageActivities } from '../activities/synth-package';
import type { SynthRoleActivities } from '../activities/synth-roles';
import type { SynthSandboxActivities } from '../activities/synth-sandbox';
import type { TrainingActivities } from '../activities/training';
import type { VerificationActivities } from '../activities/verification';
import { siblingQueue } from '../domain/queues';

/**
 * Sandbox work goes to the CPU (or GPU) queue beside this workflow's control queue. Runs enforce
 * their own time limits, so startToClose is only a backstop; the heartbeat timeout is what
 * notices a lost worker and retries the run on another.
 */
function onSandboxQueue<T extends object>(kind: 'cpu' | 'gpu', nonRetryable: string[]) {
  return proxyActivities<T>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, kind),
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: nonRetryable },
  });
}

export const sandboxActivities = (kind: 'cpu' | 'gpu' = 'cpu') =>
  onSandboxQueue<SandboxActivities>(kind, ['InvalidRunSpec']);
export const verificationActivities = (kind: 'cpu' | 'gpu' = 'cpu') => onSandboxQueue<VerificationActivities>(kind, []);
/** The reference ladder's rungs: a rung's own failures are its result, so only lost runs retry. */
export const ladderActivities = () => onSandboxQueue<LadderActivities>('cpu', []);
export const synthSandboxActivities = () => onSandboxQueue<SynthSandboxActivities>('cpu', []);

/**
 * Training runs: startToClose only backs up the run's own time limit; a lost worker is noticed
 * within the heartbeat timeout and the retry resumes from the last checkpoint; a cancel waits
 * until the container is stopped.
 */
export const trainingActivities = (kind: 'cpu' | 'gpu', timeoutS: number) =>
  proxyActivities<TrainingActivities>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, kind),
    startToCloseTimeout: (timeoutS + 600) * 1000,
    heartbeatTimeout: '15 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: 5,
      initialInterval: '1 second',
      nonRetryableErrorTypes: ['InvalidTrainingSpec', 'TrainingFailed'],
    },
  });

/**
 * Model calls on the LLM queue. They are the longest waits there are, so every llm activity
 * heartbeats while it waits on the endpoint (`workers/llm.ts`): a lost worker is noticed within
 * the heartbeat timeout and the call is retried on another, instead of sitting "Started" until
 * startToClose.
 */
function onLlmQueue<T extends object>(
  nonRetryable: string[],
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'] = '15 minutes',
) {
  return proxyActivities<T>({
    taskQueue: siblingQueue(workflowInfo().taskQueue, 'llm'),
    startToCloseTimeout,
    heartbeatTimeout: '20 seconds',
    retry: {
      maximumAttempts: 4,
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      nonRetryableErrorTypes: nonRetryable,
    },
  });
}

/** Agent roles; a role output that fails its schema is not retried. */
export const roleActivities = () => onLlmQueue<RoleActivities>(['InvalidRoleOutput']);
/** Synth's roles, with the same options as the Forge's. */
export const synthRoleActivities = () => onLlmQueue<SynthRoleActivities>(['InvalidRoleOutput']);
/** A rollout policy's turns. */
export const policyActivities = () =>
  onLlmQueue<PolicyActivities>(['InvalidPolicyOutput', 'UnknownPolicy', 'EndpointRefused', 'UnknownApiKey']);
/** The check of a batch's policy before it starts: quick, so a short startToClose. */
export const policyCheckActivities = () =>
  onLlmQueue<PolicyActivities>(['UnknownPolicy', 'EndpointRefused', 'UnknownApiKey'], '1 minute');

/** Cheap file work on the control queue itself. */
const onControlQueue: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: {
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['UnknownDataset', 'BadDataset', 'NoUsableTarget', 'BadPackage'],
  },
};
export const smokeActivities = proxyActivities<SmokeActivities>(onControlQueue);
export const intakeActivities = proxyActivities<IntakeActivities>(onControlQueue);
export const catalogActivities = proxyActivities<CatalogActivities>(onControlQueue);
export const synthPackageActivities = proxyActivities<SynthPackageActivities>({
  ...onControlQueue,
  retry: { ...onControlQueue.retry, nonRetryableErrorTypes: ['UnknownSeed'] },
});
