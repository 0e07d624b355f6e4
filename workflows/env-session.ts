import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  defineQuery,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { EnvControlActivities } from '../activities/env/control';
import type { EnvSandboxActivities, StepRun } from '../activities/env/sandbox';
import {
  ACTION_PARAMS,
  type ActionParams,
  type Budget,
  type BudgetLeft,
  describeIssues,
  type DoneReason,
  ENV_ACTIONS,
  ENV_MESSAGES,
  type EnvAction,
  type EnvState,
  type HistoryEntry,
  type Observation,
  type Scores,
  type StepResult,
  type TaskInfo,
} from '../domain/env';
import { infoOf } from '../domain/env-info';
import { bestOf, invalidSubmission, missingSubmission, rewardOf, runError, scoresOf } from '../domain/observations';
import { siblingQueue } from '../domain/queues';
import type { RewardMode } from '../domain/rewards';
import { describeRunEnd } from '../domain/sandbox';

export interface EnvSessionInput {
  taskId: string;
  /** the catalog the task is read from; unset = the control worker's */
  catalogDir?: string;
  /** resolved by the client from the request and the config's defaults */
  budget: Budget;
  rewardMode: RewardMode;
  /** start a new run (continue-as-new) after this many steps; unset = when Temporal suggests it */
  stepsPerRun?: number;
  /** what a previous run of this session handed over */
  carried?: Carried;
}

interface Carried {
  task: TaskInfo;
  trajectory: string;
  stepsUsed: number;
  startedAtMs: number;
  lastActionAtMs: number;
  best?: Scores;
  history: HistoryEntry[];
  placement?: string;
  /** the last steps' results by update id: a client retrying a step (even into a new run) gets the result, not a second step */
  recent?: { updateId: string; result: StepResult }[];
}

const RECENT_KEPT = 4;

/** get_history answers from the last this-many steps; older ones are in the trajectory file. */
const HISTORY_KEPT = 200;
/** a host queue that nobody polls for this long has lost its worker: the session moves */
const HOST_GONE_AFTER = '2 minutes';

export const stateQuery = defineQuery<EnvState>(ENV_MESSAGES.state);
export const observeUpdate = defineUpdate<Observation>(ENV_MESSAGES.observe);
export const closeUpdate = defineUpdate<EnvState>(ENV_MESSAGES.close);
const actionUpdates = Object.fromEntries(ENV_ACTIONS.map((a) => [a, defineUpdate<StepResult, [unknown]>(a)])) as Record<EnvAction, ReturnType<typeof defineUpdate<StepResult, [unknown]>>>;

const control = proxyActivities<EnvControlActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: ['BadTask'] },
});

function isHostGone(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/**
 * One Dojo session: a long-lived workflow whose updates are the agent's actions. Steps run one at
 * a time in the session's warm sandbox, on the host that holds it; each step lands in the
 * trajectory file exactly once before its update returns.
 */
export async function envSession(input: EnvSessionInput): Promise<EnvState> {
  const { budget, rewardMode } = input;
  const envId = workflowInfo().workflowId;
  let carried = input.carried;
  let done = false;
  let doneReason: DoneReason | undefined;
  let busy = false;
  let actionsSeen = 0;
  let stepsThisRun = 0;

  const sandboxKind = () => (carried?.task.resources.gpu ? 'gpu' : 'cpu');
  const runLimits = (task: TaskInfo) => ({
    cpus: budget.cpus ?? task.resources.cpus,
    memoryMb: budget.memoryMb ?? task.resources.memoryMb,
    timeoutS: budget.runTimeoutS ?? task.resources.timeLimitS,
  });
  const budgetLeft = (): BudgetLeft => ({
    stepsUsed: carried?.stepsUsed ?? 0,
    stepsLeft: Math.max(0, budget.steps - (carried?.stepsUsed ?? 0)),
    wallTimeLeftS: Math.max(0, Math.round(((carried?.startedAtMs ?? Date.now()) + budget.wallTimeS * 1000 - Date.now()) / 1000)),
  });
  const state = (): EnvState => ({
    envId,
    taskId: input.taskId,
    rewardMode,
    budget,
    stepsUsed: carried?.stepsUsed ?? 0,
    startedAt: new Date(carried?.startedAtMs ?? workflowInfo().startTime.getTime()).toISOString(),
    done,
    doneReason,
    best: carried?.best,
    trajectory: carried?.trajectory ?? '',
    placement: carried?.placement,
  });
  const finish = (reason: DoneReason) => {
    if (done) return;
    done = true;
    doneReason = reason;
  };

  /** Places the session on a sandbox host (the shared queue's worker answers with its own queue). */
  async function place(): Promise<void> {
    const placer = proxyActivities<EnvSandboxActivities>({ taskQueue: siblingQueue(workflowInfo().taskQueue, sandboxKind()), startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });
    carried!.placement = (await placer.placeSession()).queue;
  }

  /** The activities on the session's host. (Never returned from an async function: awaiting the proxy would call an activity named `then`.) */
  function hostActivities(task: TaskInfo): EnvSandboxActivities {
    return proxyActivities<EnvSandboxActivities>({
      taskQueue: carried!.placement!,
      scheduleToStartTimeout: HOST_GONE_AFTER,
      // the run's own limit, then grading (at most 5 minutes), then slack
      startToCloseTimeout: `${runLimits(task).timeoutS + 420} seconds`,
      heartbeatTimeout: '15 seconds',
      retry: { maximumAttempts: 3, initialInterval: '1 second' },
    });
  }

  /** Runs on the session's host; if that host is gone, places the session anew once and retries. */
  async function withHost<T>(task: TaskInfo, work: (host: EnvSandboxActivities) => Promise<T>): Promise<{ result: T; moved: boolean }> {
    if (!carried!.placement) await place();
    try {
      return { result: await work(hostActivities(task)), moved: false };
    } catch (err) {
      if (!isHostGone(err)) throw err;
      log.warn('session host is gone; placing the session on another', { envId, placement: carried!.placement });
      await place();
      return { result: await work(hostActivities(task)), moved: true };
    }
  }

  type Outcome = Omit<Observation, 'step' | 'action' | 'budget' | 'done' | 'doneReason'> & { reward?: number };

  async function runCode(task: TaskInfo, code: string, grade: 'score' | 'check'): Promise<Outcome> {
    const limits = runLimits(task);
    let step: StepRun;
    let moved = false;
    try {
      ({ result: step, moved } = await withHost(task, (host) => host.runStep({ envId, packageDir: task.packageDir, code, limits })));
    } catch (err) {
      const message = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : (err as Error).message;
      return { status: 'error', message: 'the sandbox failed to run the step', error: { type: 'SandboxError', message, likelyCauses: ['an infrastructure failure, not your code: try the step again'] } };
    }
    const { run, submission } = step;
    const movedNote = moved ? ' (the session moved to another host: /workspace started empty)' : '';
    const error = runError(run, limits);
    if (error) return { status: 'error', message: `the code ${describeRunEnd(run, limits)}${movedNote}`, run, error };
    if (grade === 'check') {
      const checked = submission ? { valid: submission.valid, ...(submission.error ? { error: submission.error } : {}) } : undefined;
      const what = !checked ? 'no submission.csv written' : checked.valid ? 'submission.csv would be accepted' : `submission.csv would be rejected: ${checked.error}`;
      return { status: 'ok', message: `the code ran in ${(run.wallMs / 1000).toFixed(1)} s; ${what}${movedNote}`, run, submission: checked };
    }
    if (!submission) return { status: 'error', message: `the code ran but wrote no submission${movedNote}`, run, error: missingSubmission() };
    if (!submission.valid) return { status: 'error', message: `the submission is invalid: ${submission.error}${movedNote}`, run, error: invalidSubmission(submission.error ?? 'rejected by the metric') };
    const score = scoresOf(submission.score!, task.leaderboards, task.metric);
    carried!.best = bestOf(carried!.best, score, task.metric);
    return {
      status: 'ok',
      message: `scored ${score.raw} (${task.metric.name}); position ${score.position.toFixed(3)}, ${score.medal}${movedNote}`,
      run,
      score,
      best: carried!.best,
      reward: rewardOf(rewardMode, score, task.leaderboards, task.metric),
    };
  }

  async function perform(action: EnvAction, params: Record<string, unknown>, task: TaskInfo): Promise<Outcome> {
    switch (action) {
      case 'request_info': {
        const { kind } = params as ActionParams<'request_info'>;
        return { status: 'ok', message: `${kind} of task ${task.taskId}`, info: { kind, ...infoOf(kind, task, budget, budgetLeft()) } };
      }
      case 'validate_code':
        return runCode(task, (params as ActionParams<'validate_code'>).code, 'check');
      case 'execute_code':
        return runCode(task, (params as ActionParams<'execute_code'>).code, 'score');
      case 'get_history': {
        const { last } = params as ActionParams<'get_history'>;
        const history = carried!.history.slice(-(last ?? HISTORY_KEPT));
        return { status: 'ok', message: `${history.length} past steps`, history, best: carried!.best };
      }
      case 'reset':
        if (carried!.placement) {
          await withHost(task, (host) => host.resetSession({ envId, packageDir: task.packageDir, limits: runLimits(task) }));
        }
        return { status: 'ok', message: '/workspace is empty again; the task, the budget and the best score are unchanged' };
    }
  }

  /** One agent action: serialized, counted, recorded, answered. */
  const recentResult = (updateId: string | undefined) => (updateId ? carried?.recent?.find((r) => r.updateId === updateId)?.result : undefined);

  async function act(action: EnvAction, rawParams: unknown): Promise<StepResult> {
    actionsSeen += 1;
    const updateId = currentUpdateInfo()?.id;
    await condition(() => !busy && carried !== undefined);
    busy = true;
    try {
      const again = recentResult(updateId);
      if (again) return again;
      if (done) return { observation: endedObservation(), reward: 0, done: true };
      const c = carried!;
      const params = ACTION_PARAMS[action].parse(rawParams ?? {}) as Record<string, unknown>;
      const step = c.stepsUsed + 1;
      c.stepsUsed = step;
      stepsThisRun += 1;
      const startedAt = Date.now();
      c.lastActionAtMs = startedAt;
      const { reward = 0, ...outcome } = await perform(action, params, c.task);
      const endedAt = Date.now();
      c.lastActionAtMs = endedAt;
      if (c.stepsUsed >= budget.steps) finish('steps');
      else if (budgetLeft().wallTimeLeftS <= 0) finish('wall-time');
      const observation: Observation = { step, action, ...outcome, budget: budgetLeft(), done, ...(doneReason ? { doneReason } : {}) };
      c.history = [...c.history, { step, action, status: outcome.status, summary: outcome.message.slice(0, 300), ...(outcome.score ? { score: outcome.score.raw } : {}) }].slice(-HISTORY_KEPT);
      await control.appendTrajectory({
        file: c.trajectory,
        entry: { envId, taskId: input.taskId, step, action, params, observation, reward, done, timings: { startedAt: new Date(startedAt).toISOString(), endedAt: new Date(endedAt).toISOString(), ms: endedAt - startedAt } },
      });
      const result = { observation, reward, done };
      if (updateId) c.recent = [...(c.recent ?? []), { updateId, result }].slice(-RECENT_KEPT);
      return result;
    } finally {
      busy = false;
    }
  }

  function endedObservation(): Observation {
    return { step: carried?.stepsUsed ?? 0, action: 'open', status: 'error', message: `the session has ended (${doneReason})`, error: { type: 'SessionEnded', message: `the session has ended (${doneReason})`, likelyCauses: ['start a new session with POST /v1/envs'] }, budget: budgetLeft(), done: true, doneReason };
  }

  const refuseWhenEnded = () => {
    if (done) throw new Error(`session ${envId} has ended (${doneReason}): start a new one`);
  };
  for (const action of ENV_ACTIONS) {
    setHandler(actionUpdates[action], (params) => act(action, params), {
      validator: (params) => {
        if (recentResult(currentUpdateInfo()?.id)) return; // a retry of a step already taken
        refuseWhenEnded();
        const parsed = ACTION_PARAMS[action].safeParse(params ?? {});
        if (!parsed.success) throw new Error(`${action}: ${describeIssues(parsed.error)}`);
      },
    });
  }
  setHandler(observeUpdate, async (): Promise<Observation> => {
    await condition(() => carried !== undefined);
    const task = carried!.task;
    return { step: carried!.stepsUsed, action: 'open', status: 'ok', message: `session on task ${task.taskId}: ${ENV_ACTIONS.join(', ')}`, info: { kind: 'overview', ...infoOf('overview', task, budget, budgetLeft()), actions: ENV_ACTIONS, rewardMode }, budget: budgetLeft(), done, ...(doneReason ? { doneReason } : {}) };
  });
  setHandler(closeUpdate, async () => {
    await condition(() => !busy);
    finish('closed');
    return state();
  });
  setHandler(stateQuery, state);

  if (!carried) {
    const now = Date.now();
    const { task, trajectory } = await control.openTask({ envId, taskId: input.taskId, catalogDir: input.catalogDir });
    carried = { task, trajectory, stepsUsed: 0, startedAtMs: now, lastActionAtMs: now, history: [] };
  }

  const rollover = () => workflowInfo().continueAsNewSuggested || (input.stepsPerRun !== undefined && stepsThisRun >= input.stepsPerRun);
  while (!done) {
    if (busy) {
      await condition(() => !busy);
      continue;
    }
    if (rollover()) {
      await condition(() => allHandlersFinished() && !busy);
      if (!done) await continueAsNew<typeof envSession>({ ...input, carried });
      continue;
    }
    const seen = actionsSeen;
    const deadline = Math.min(carried.lastActionAtMs + budget.idleTimeoutS * 1000, carried.startedAtMs + budget.wallTimeS * 1000);
    // Wakes on an action, the end, or a run that grew long; else the session has idled out.
    const woke = await condition(() => done || busy || actionsSeen !== seen || rollover(), Math.max(1000, deadline - Date.now()));
    if (!woke) finish(budgetLeft().wallTimeLeftS <= 0 ? 'wall-time' : 'idle');
  }
  await condition(() => !busy && allHandlersFinished());
  if (carried.placement) {
    const host = proxyActivities<EnvSandboxActivities>({ taskQueue: carried.placement, scheduleToStartTimeout: '1 minute', startToCloseTimeout: '1 minute', retry: { maximumAttempts: 2 } });
    await host.stopSession({ envId }).catch((err: unknown) => log.warn('could not stop the session container; the host reaps it when its worker restarts', { error: String(err) }));
  }
  return state();
}
