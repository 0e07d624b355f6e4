import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  defineQuery,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { EnvControlActivities } from '../activities/env/control';
import type { EnvSandboxActivities, RecordedStep } from '../activities/env/sandbox';
import {
  ACTION_PARAMS,
  type ActionParams,
  type Budget,
  describeIssues,
  ENV_ACTIONS,
  ENV_MESSAGES,
  type EnvAction,
  type EnvState,
  type Observation,
  type StepResult,
  type TaskInfo,
} from '../domain/env';
import {
  heldOutOf,
  infoOutcome,
  type Outcome,
  resetOutcome,
  runOutcome,
  sandboxFailure,
  selectOutcome,
  submissionCapOutcome,
} from '../domain/outcomes';
import { siblingQueue } from '../domain/queues';
import type { RewardMode } from '../domain/rewards';
import {
  budgetLeft,
  end,
  endedObservation,
  envStateOf,
  historyOutcome,
  idleDeadlineMs,
  idleOut,
  isDone,
  mergeHistory,
  openSession,
  overviewObservation,
  runLimits,
  scoredSteps,
  type SessionState,
  type StepEffects,
  startStep,
  step,
  stepTimings,
  submissionsLeft,
} from '../domain/session';

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

/** A session that continues as new: its state (never ended) and what it opened. */
interface Carried extends SessionState {
  task: TaskInfo;
  trajectory: string;
  placement?: string;
  /** how many times the session was placed: the epoch its host writes to the store as */
  placements?: number;
  /** the last steps' results by update id: a client retrying a step (even into a new run) gets the result */
  recent?: Recent[];
}

interface Recent {
  updateId: string;
  result: StepResult;
}

const RECENT_KEPT = 4;

/** a host queue that nobody polls for this long has lost its worker: the session moves */
const HOST_GONE_AFTER = '2 minutes';

export const stateQuery = defineQuery<EnvState>(ENV_MESSAGES.state);
export const observeUpdate = defineUpdate<Observation>(ENV_MESSAGES.observe);
export const closeUpdate = defineUpdate<EnvState>(ENV_MESSAGES.close);
type ActionUpdate = ReturnType<typeof defineUpdate<StepResult, [unknown]>>;
const actionUpdates = Object.fromEntries(ENV_ACTIONS.map((a) => [a, defineUpdate<StepResult, [unknown]>(a)])) as Record<
  EnvAction,
  ActionUpdate
>;

const control = proxyActivities<EnvControlActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: ['BadTask'] },
});

function isHostGone(err: unknown): boolean {
  if (!(err instanceof ActivityFailure && err.cause instanceof TimeoutFailure)) return false;
  return err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/** A carried session's own state, without what it opened. */
const sessionOf = ({
  stepsUsed,
  startedAtMs,
  lastActionAtMs,
  best,
  history,
  submissions,
  selected,
}: Carried): SessionState => ({
  stepsUsed,
  startedAtMs,
  lastActionAtMs,
  best,
  history,
  ...(submissions ? { submissions } : {}),
  ...(selected !== undefined ? { selected } : {}),
});

/** An action's outcome, and what it changed beside it (a submission's private result, a selection). */
interface Performed {
  outcome: Outcome;
  effects?: StepEffects;
}

const messageOf = (err: unknown) =>
  err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : (err as Error).message;

/**
 * One Dojo session: a long-lived workflow whose updates are the agent's actions. Steps run one at
 * a time in the session's warm sandbox, on the host that holds it; each step lands in the
 * trajectory file exactly once before its update returns. The session's rules are domain/session.ts;
 * this runs them: handlers, activities, placement, continue-as-new and the idle timeout.
 */
export async function envSession(input: EnvSessionInput): Promise<EnvState> {
  const { budget, rewardMode, carried } = input;
  const envId = workflowInfo().workflowId;
  let session = carried ? sessionOf(carried) : openSession(Date.now());
  /** the task and its trajectory file, once the session has opened them */
  let opened = carried && { task: carried.task, trajectory: carried.trajectory };
  let placement = carried?.placement;
  let placements = carried?.placements ?? (placement ? 1 : 0);
  let recent = carried?.recent ?? [];
  let busy = false;
  let actionsSeen = 0;
  let stepsThisRun = 0;

  const terms = (task: TaskInfo) => ({ budget, rewardMode, task });
  const facts = () => ({
    envId,
    taskId: input.taskId,
    rewardMode,
    budget,
    trajectory: opened?.trajectory ?? '',
    placement,
  });
  const state = (): EnvState => envStateOf(facts(), session);

  /** Places the session on a sandbox host (the shared queue's worker answers with its own queue). */
  async function place(task: TaskInfo): Promise<void> {
    const placer = proxyActivities<EnvSandboxActivities>({
      taskQueue: siblingQueue(workflowInfo().taskQueue, task.resources.gpu ? 'gpu' : 'cpu'),
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 5 },
    });
    placement = (await placer.placeSession()).queue;
    placements += 1;
  }

  /**
   * The activities on the session's host. (Never returned from an async function: awaiting the
   * proxy would call an activity named `then`.)
   */
  function hostActivities(task: TaskInfo): EnvSandboxActivities {
    return proxyActivities<EnvSandboxActivities>({
      taskQueue: placement!,
      scheduleToStartTimeout: HOST_GONE_AFTER,
      // the run's own limit, then grading (at most 5 minutes), then slack
      startToCloseTimeout: `${runLimits(budget, task).timeoutS + 420} seconds`,
      heartbeatTimeout: '15 seconds',
      retry: { maximumAttempts: 3, initialInterval: '1 second' },
    });
  }

  /** Runs on the session's host; if that host is gone, places the session anew once and retries. */
  async function withHost<T>(
    task: TaskInfo,
    work: (host: EnvSandboxActivities, moved: boolean) => Promise<T>,
  ): Promise<{ result: T; moved: boolean }> {
    if (!placement) await place(task);
    try {
      return { result: await work(hostActivities(task), false), moved: false };
    } catch (err) {
      if (!isHostGone(err)) throw err;
      log.warn('session host is gone; placing the session on another', { envId, placement });
      await place(task);
      return { result: await work(hostActivities(task), true), moved: true };
    }
  }

  async function runCode(task: TaskInfo, code: string, grade: 'score' | 'check'): Promise<Performed> {
    const limits = runLimits(budget, task);
    let ran;
    try {
      ran = await withHost(task, (host) => host.runStep({ envId, packageDir: task.packageDir, code, limits }));
    } catch (err) {
      return { outcome: sandboxFailure(messageOf(err)) };
    }
    const outcome = runOutcome(ran.result, { grade, limits, task, moved: ran.moved });
    return { outcome, effects: { held: heldOutOf(ran.result, { task, rewardMode }) } };
  }

  async function perform(action: EnvAction, params: Record<string, unknown>, task: TaskInfo): Promise<Performed> {
    switch (action) {
      case 'request_info': {
        const { kind } = params as ActionParams<'request_info'>;
        return { outcome: infoOutcome(kind, task, budget, budgetLeft(session, budget, Date.now())) };
      }
      case 'validate_code':
        return runCode(task, (params as ActionParams<'validate_code'>).code, 'check');
      case 'execute_code':
        return runCode(task, (params as ActionParams<'execute_code'>).code, 'score');
      case 'get_history':
        return { outcome: historyOutcome(session, (params as ActionParams<'get_history'>).last) };
      case 'reset':
        if (placement) {
          const limits = runLimits(budget, task);
          await withHost(task, (host) => host.resetSession({ envId, packageDir: task.packageDir, limits }));
        }
        return { outcome: resetOutcome() };
      case 'select_submission': {
        const selected = (params as ActionParams<'select_submission'>).step;
        return { outcome: selectOutcome(selected, scoredSteps(session)), effects: { selected } };
      }
    }
  }

  /**
   * A code step in one activity on the session's host: run, grade, the session's rules and the
   * trajectory append.
   */
  async function runAndRecord(
    action: 'validate_code' | 'execute_code',
    params: Record<string, unknown>,
    opened: { task: TaskInfo; trajectory: string },
    startedAtMs: number,
  ): Promise<RecordedStep> {
    const { task, trajectory } = opened;
    const { code } = params as ActionParams<typeof action>;
    const limits = runLimits(budget, task);
    const base = { envId, taskId: input.taskId, packageDir: task.packageDir, code, limits, action, params };
    // What scoring reads, not the whole task or history: the payload stays small however long the session.
    const scoring = { budget, rewardMode, task: { metric: task.metric, leaderboards: task.leaderboards } };
    const record = { ...base, session: { ...session, history: [] }, terms: scoring, trajectory, startedAtMs };
    const taken = (await withHost(task, (host, moved) => host.runAndRecord({ ...record, moved, epoch: placements })))
      .result;
    return { ...taken, state: { ...taken.state, history: mergeHistory(session.history, taken.state.history) } };
  }

  const recentResult = (updateId: string | undefined) =>
    updateId ? recent.find((r) => r.updateId === updateId)?.result : undefined;

  /** One agent action: serialized, counted, recorded, answered. */
  async function act(action: EnvAction, rawParams: unknown): Promise<StepResult> {
    actionsSeen += 1;
    const updateId = currentUpdateInfo()?.id;
    await condition(() => !busy && opened !== undefined);
    busy = true;
    try {
      const again = recentResult(updateId);
      if (again) return again;
      if (isDone(session)) return { observation: endedObservation(session, budget, Date.now()), reward: 0, done: true };
      const { task, trajectory } = opened!;
      const params = ACTION_PARAMS[action].parse(rawParams ?? {}) as Record<string, unknown>;
      const startedAt = Date.now();
      session = startStep(session, startedAt);
      stepsThisRun += 1;
      const code = action === 'validate_code' || action === 'execute_code';
      // Over the budget's cap of scored submissions, execute_code is refused without running.
      const capped = action === 'execute_code' && submissionsLeft(session, budget) === 0;
      // Recorded histories ran the code step and the append as two activities.
      let taken: RecordedStep | undefined;
      let hostFailure: string | undefined;
      if (code && !capped && patched('one-activity-per-step')) {
        try {
          taken = await runAndRecord(action, params, opened!, startedAt);
        } catch (err) {
          hostFailure = messageOf(err); // the step is taken (and recorded) here, as a sandbox failure
        }
      }
      if (!taken) {
        const { outcome, effects }: Performed = capped
          ? { outcome: submissionCapOutcome(budget.submissions!) }
          : hostFailure === undefined
            ? await perform(action, params, task)
            : { outcome: sandboxFailure(hostFailure) };
        const endedAt = Date.now();
        taken = step(session, action, outcome, terms(task), endedAt, effects);
        const { observation, reward } = taken;
        const held = observation.score && effects?.held;
        const { done } = observation;
        const entry = {
          envId,
          taskId: input.taskId,
          step: observation.step,
          action,
          params,
          observation,
          reward,
          done,
          ...(held ? { hidden: held } : {}),
        };
        await control.appendTrajectory({
          file: trajectory,
          entry: { ...entry, timings: stepTimings(startedAt, endedAt) },
        });
      }
      session = taken.state;
      const { observation, reward } = taken;
      const { done } = observation;
      const result = { observation, reward, done };
      if (updateId) recent = [...recent, { updateId, result }].slice(-RECENT_KEPT);
      return result;
    } finally {
      busy = false;
    }
  }

  for (const action of ENV_ACTIONS) {
    setHandler(actionUpdates[action], (params) => act(action, params), {
      validator: (params) => {
        if (recentResult(currentUpdateInfo()?.id)) return; // a retry of a step already taken
        if (isDone(session)) throw new Error(`session ${envId} has ended (${session.doneReason}): start a new one`);
        const parsed = ACTION_PARAMS[action].safeParse(params ?? {});
        if (!parsed.success) throw new Error(`${action}: ${describeIssues(parsed.error)}`);
      },
    });
  }
  setHandler(observeUpdate, async (): Promise<Observation> => {
    await condition(() => opened !== undefined);
    return overviewObservation(session, terms(opened!.task), Date.now());
  });
  setHandler(closeUpdate, async () => {
    await condition(() => !busy);
    session = end(session, 'closed');
    return state();
  });
  setHandler(stateQuery, state);

  if (!opened) {
    opened = await control.openTask({ envId, taskId: input.taskId, catalogDir: input.catalogDir });
  }

  const carry = (): Carried => ({ ...session, ...opened!, placement, placements, recent });
  const rollover = () =>
    workflowInfo().continueAsNewSuggested || (input.stepsPerRun !== undefined && stepsThisRun >= input.stepsPerRun);
  while (!isDone(session)) {
    if (busy) {
      await condition(() => !busy);
      continue;
    }
    if (rollover()) {
      await condition(() => allHandlersFinished() && !busy);
      if (!isDone(session)) await continueAsNew<typeof envSession>({ ...input, carried: carry() });
      continue;
    }
    const seen = actionsSeen;
    const deadline = idleDeadlineMs(session, budget);
    // Wakes on an action, the end, or a run that grew long; else the session has idled out.
    const woke = await condition(
      () => isDone(session) || busy || actionsSeen !== seen || rollover(),
      Math.max(1000, deadline - Date.now()),
    );
    if (!woke) session = idleOut(session, budget, Date.now());
  }
  await condition(() => !busy && allHandlersFinished());
  if (placement) {
    const host = proxyActivities<EnvSandboxActivities>({
      taskQueue: placement,
      scheduleToStartTimeout: '1 minute',
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 2 },
    });
    const warn = (err: unknown) =>
      log.warn('could not stop the session container; the host reaps it when its worker restarts', {
        error: String(err),
      });
    await host.stopSession({ envId }).catch(warn);
  }
  return state();
}
