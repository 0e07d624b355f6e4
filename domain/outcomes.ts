import type { Budget, BudgetLeft, HeldOut, InfoKind, Observation, RunSummary, TaskInfo } from './env';
import { infoOf } from './env-info';
import { invalidSubmission, missingSubmission, runError, scoresOf } from './observations';
import { rewardOf, type RewardMode } from './rewards';
import { describeRunEnd } from './sandbox';

/**
 * What an action comes to: the part of its observation the action itself decides. The session adds
 * the step, the best score, the budget left and whether it is done (domain/session.ts).
 */
export type Outcome = Omit<Observation, 'step' | 'action' | 'budget' | 'done' | 'doneReason'>;

/** A code step as the sandbox host ran it, with the grade of the submission it wrote, if any. */
export interface GradedRun {
  run: RunSummary;
  /** score: the whole test set's; public and private: its two parts (absent from older graders) */
  submission?: { valid: boolean; score?: number; public?: number; private?: number; error?: string };
}

/** How a code step was run: `check` only says whether its submission would be accepted; `score` grades it. */
export interface RunTerms {
  grade: 'check' | 'score';
  limits: { timeoutS: number; memoryMb: number };
  task: Pick<TaskInfo, 'metric' | 'leaderboards'>;
  /** the session moved to another host for this step (its /workspace started empty) */
  moved: boolean;
}

/** A code step's outcome: the run's error, else the check of its submission, else its score. */
export function runOutcome({ run, submission }: GradedRun, { grade, limits, task, moved }: RunTerms): Outcome {
  const note = moved ? ' (the session moved to another host: /workspace started empty)' : '';
  const error = runError(run, limits);
  if (error) return { status: 'error', message: `the code ${describeRunEnd(run, limits)}${note}`, run, error };
  if (grade === 'check') {
    const checked = submission && { valid: submission.valid, ...(submission.error ? { error: submission.error } : {}) };
    const seconds = (run.wallMs / 1000).toFixed(1);
    const message = `the code ran in ${seconds} s; ${verdictOf(checked)}${note}`;
    return { status: 'ok', message, run, submission: checked };
  }
  if (!submission) {
    return { status: 'error', message: `the code ran but wrote no submission${note}`, run, error: missingSubmission() };
  }
  if (!submission.valid) {
    const invalid = invalidSubmission(submission.error ?? 'rejected by the metric');
    return { status: 'error', message: `the submission is invalid: ${submission.error}${note}`, run, error: invalid };
  }
  // The agent learns the public rows' score only; the private rows' waits for the session's end.
  const score = scoresOf(submission.public ?? submission.score!, task.leaderboards, task.metric);
  const placed = `position ${score.position.toFixed(3)}, ${score.medal}`;
  const message = `scored ${score.raw} (${task.metric.name}, public test rows); ${placed}${note}`;
  return { status: 'ok', message, run, score };
}

/** A scored submission's private-rows score and the reward it earns as the final one; undefined when not scored. */
export function heldOutOf(
  { run, submission }: GradedRun,
  { task, rewardMode }: { task: Pick<TaskInfo, 'metric' | 'leaderboards'>; rewardMode: RewardMode },
): HeldOut | undefined {
  if (run.exitCode !== 0 || !submission?.valid || submission.score === undefined) return undefined;
  const held = scoresOf(submission.private ?? submission.score, task.leaderboards, task.metric);
  return { private: held, reward: rewardOf(rewardMode, held, task.leaderboards, task.metric) };
}

/** execute_code once the budget's scored submissions are spent: refused, and its code not run. */
export function submissionCapOutcome(cap: number): Outcome {
  const message = `the budget allows ${cap} scored submissions and all are used: the code was not run`;
  const likelyCauses = ['validate_code still checks a submission; select_submission picks the final one'];
  return { status: 'error', message, error: { type: 'SubmissionCap', message, likelyCauses } };
}

/** select_submission: the step named is an execute_code step with a scored submission, or an error. */
export function selectOutcome(step: number, scoredSteps: number[]): Outcome {
  if (scoredSteps.includes(step)) return { status: 'ok', message: `step ${step}'s submission is now your final one` };
  const message = `step ${step} has no scored submission`;
  const likelyCauses = [
    scoredSteps.length
      ? `select one of the execute_code steps that scored: ${scoredSteps.join(', ')}`
      : 'no execute_code step has scored yet',
  ];
  return { status: 'error', message, error: { type: 'NoSuchSubmission', message, likelyCauses } };
}

function verdictOf(checked: { valid: boolean; error?: string } | undefined): string {
  if (!checked) return 'no submission.csv written';
  return checked.valid ? 'submission.csv would be accepted' : `submission.csv would be rejected: ${checked.error}`;
}

/** A code step the sandbox could not run at all (the host failed, not the agent's code). */
export function sandboxFailure(message: string): Outcome {
  const likelyCauses = ['an infrastructure failure, not your code: try the step again'];
  const error = { type: 'SandboxError', message, likelyCauses };
  return { status: 'error', message: 'the sandbox failed to run the step', error };
}

export function infoOutcome(kind: InfoKind, task: TaskInfo, budget: Budget, left: BudgetLeft): Outcome {
  const info = { kind, ...infoOf(kind, task, budget, left) };
  return { status: 'ok', message: `${kind} of task ${task.taskId}`, info };
}

export function resetOutcome(): Outcome {
  return { status: 'ok', message: '/workspace is empty again; the task, the budget and the best score are unchanged' };
}
