import {
  type Budget,
  type BudgetLeft,
  type DoneReason,
  ENV_ACTIONS,
  type EnvAction,
  type EnvState,
  type FinalResult,
  type HeldOut,
  type HistoryEntry,
  type Observation,
  type Scores,
  type TaskInfo,
} from './env';
import { infoOf } from './env-info';
import { bestOf } from './observations';
import type { Outcome } from './outcomes';
import { rewardOf, type RewardMode } from './rewards';

/**
 * The rules of a Dojo session, as pure functions of its state and the clock: what a step costs,
 * when the session ends, what it remembers, and what the agent reads and earns. The envSession
 * workflow (workflows/env-session.ts) runs the actions and keeps the state between them.
 */

/** get_history answers from the last this-many steps; older ones are in the trajectory file. */
export const HISTORY_KEPT = 200;
/** a history entry's summary is the step's message, cut to this length */
const SUMMARY_CHARS = 300;

export interface SessionState {
  stepsUsed: number;
  startedAtMs: number;
  lastActionAtMs: number;
  best?: Scores;
  /** the last HISTORY_KEPT steps */
  history: HistoryEntry[];
  /** set when the session ends; the first reason stays */
  doneReason?: DoneReason;
  /** every scored submission's private-rows result, by step (never shown to the agent before the end) */
  submissions?: { step: number; held: HeldOut }[];
  /** the step select_submission marked as final */
  selected?: number;
}

/** What a step did beside its outcome: the private result of a scored submission, or a selection. */
export interface StepEffects {
  held?: HeldOut;
  selected?: number;
}

/** What a session is held to: its budget, how it rewards, and the task it scores against. */
export interface SessionTerms {
  budget: Budget;
  rewardMode: RewardMode;
  task: TaskInfo;
}

/** What a step is scored by: the session's terms, with only the task facts that scoring reads. */
export type StepTerms = Omit<SessionTerms, 'task'> & { task: Pick<TaskInfo, 'metric' | 'leaderboards'> };

export interface StepTaken {
  state: SessionState;
  observation: Observation;
  reward: number;
}

export function openSession(nowMs: number): SessionState {
  return { stepsUsed: 0, startedAtMs: nowMs, lastActionAtMs: nowMs, history: [] };
}

export const isDone = (state: SessionState): boolean => state.doneReason !== undefined;

/** Ends the session, unless it has ended already. */
export function end(state: SessionState, reason: DoneReason): SessionState {
  return isDone(state) ? state : { ...state, doneReason: reason };
}

export function budgetLeft(state: SessionState, budget: Budget, nowMs: number): BudgetLeft {
  const wallEndMs = state.startedAtMs + budget.wallTimeS * 1000;
  return {
    stepsUsed: state.stepsUsed,
    stepsLeft: Math.max(0, budget.steps - state.stepsUsed),
    wallTimeLeftS: Math.max(0, Math.round((wallEndMs - nowMs) / 1000)),
  };
}

/** A code step's limits: the session's budget where it sets them, else the task's resources. */
export function runLimits(budget: Budget, task: Pick<TaskInfo, 'resources'>) {
  return {
    cpus: budget.cpus ?? task.resources.cpus,
    memoryMb: budget.memoryMb ?? task.resources.memoryMb,
    timeoutS: budget.runTimeoutS ?? task.resources.timeLimitS,
  };
}

/**
 * A step begins: it counts against the budget from now on, so request_info and the state query
 * see it while it runs. `step` finishes it.
 */
export function startStep(state: SessionState, nowMs: number): SessionState {
  return { ...state, stepsUsed: state.stepsUsed + 1, lastActionAtMs: nowMs };
}

/**
 * A step ends with the outcome of its action: the best score moves, the session ends when the
 * budget is spent, the history keeps the step, and the agent gets its observation and reward.
 * `state` is the one `startStep` returned.
 */
export function step(
  state: SessionState,
  action: EnvAction,
  outcome: Outcome,
  terms: StepTerms,
  nowMs: number,
  effects: StepEffects = {},
): StepTaken {
  const { budget, rewardMode, task } = terms;
  const stepNumber = state.stepsUsed;
  const best = outcome.score ? bestOf(state.best, outcome.score, task.metric) : state.best;
  let next: SessionState = { ...state, lastActionAtMs: nowMs, best };
  if (outcome.score && effects.held)
    next = { ...next, submissions: [...(next.submissions ?? []), { step: stepNumber, held: effects.held }] };
  if (outcome.status === 'ok' && effects.selected !== undefined) next = { ...next, selected: effects.selected };
  if (next.stepsUsed >= budget.steps) next = end(next, 'steps');
  else if (budgetLeft(next, budget, nowMs).wallTimeLeftS <= 0) next = end(next, 'wall-time');
  const entry: HistoryEntry = {
    step: stepNumber,
    action,
    status: outcome.status,
    summary: outcome.message.slice(0, SUMMARY_CHARS),
    ...(outcome.score ? { score: outcome.score.raw } : {}),
  };
  next = { ...next, history: [...next.history, entry].slice(-HISTORY_KEPT) };
  const observation: Observation = {
    step: stepNumber,
    action,
    ...outcome,
    ...(outcome.score ? { best } : {}),
    ...ending(next, budget, nowMs),
  };
  return { state: next, observation, reward: rewardOf(rewardMode, outcome.score, task.leaderboards, task.metric) };
}

/** The steps whose submissions scored, oldest first. */
export const scoredSteps = (state: SessionState): number[] => (state.submissions ?? []).map((s) => s.step);

/** Scored submissions the budget still allows; undefined when it sets no cap. */
export function submissionsLeft(state: SessionState, budget: Budget): number | undefined {
  return budget.submissions === undefined ? undefined : Math.max(0, budget.submissions - scoredSteps(state).length);
}

/** The final submission (the selected one, else the last scored) and what it earns on the private rows. */
export function finalOf(state: SessionState): FinalResult | undefined {
  const submissions = state.submissions ?? [];
  const chosen = submissions.find((s) => s.step === state.selected) ?? submissions.at(-1);
  return chosen && { step: chosen.step, score: chosen.held.private, reward: chosen.held.reward };
}

/** The tail every observation ends with: the budget left and whether (and why) the session is done. */
function ending(state: SessionState, budget: Budget, nowMs: number) {
  const { doneReason } = state;
  return { budget: budgetLeft(state, budget, nowMs), done: isDone(state), ...(doneReason ? { doneReason } : {}) };
}

/**
 * The history after a step that was given `before` without its history (`after` is what the step
 * left: its own entry, or, for a step given the whole history, all of it).
 */
export function mergeHistory(before: HistoryEntry[], after: HistoryEntry[]): HistoryEntry[] {
  const first = after[0]?.step ?? Infinity;
  return [...before.filter((e) => e.step < first), ...after].slice(-HISTORY_KEPT);
}

/**
 * A code step taken again from its recorded observation (a retried activity finds the step in the
 * trajectory): the same state, observation and reward, without running anything.
 */
export function retake(
  state: SessionState,
  recorded: { observation: Observation; reward: number; endedAtMs: number; hidden?: HeldOut },
  terms: StepTerms,
): StepTaken {
  const { observation, reward, endedAtMs, hidden } = recorded;
  // step() reads the outcome's status, message and score, which the observation holds as they were,
  // and the private result the record keeps beside it (`hidden`).
  const effects = hidden ? { held: hidden } : {};
  const { state: next } = step(state, observation.action as EnvAction, observation, terms, endedAtMs, effects);
  return { state: next, observation, reward };
}

/** get_history: the last `last` steps (at most HISTORY_KEPT) and the best score so far. */
export function historyOutcome(state: SessionState, last: number | undefined): Outcome {
  const history = state.history.slice(-(last ?? HISTORY_KEPT));
  return { status: 'ok', message: `${history.length} past steps`, history, best: state.best };
}

/** What an action on an ended session answers: an error observation, and no step is counted. */
export function endedObservation(state: SessionState, budget: Budget, nowMs: number): Observation {
  const message = `the session has ended (${state.doneReason})`;
  const error = { type: 'SessionEnded', message, likelyCauses: ['start a new session with POST /v1/envs'] };
  const left = budgetLeft(state, budget, nowMs);
  const { stepsUsed, doneReason } = state;
  return { step: stepsUsed, action: 'open', status: 'error', message, error, budget: left, done: true, doneReason };
}

/** The observation a session opens with (and `observe` repeats): the task's overview and the actions. */
export function overviewObservation(state: SessionState, terms: SessionTerms, nowMs: number): Observation {
  const { budget, rewardMode, task } = terms;
  const left = budgetLeft(state, budget, nowMs);
  const info = { kind: 'overview', ...infoOf('overview', task, budget, left), actions: ENV_ACTIONS, rewardMode };
  const message = `session on task ${task.taskId}: ${ENV_ACTIONS.join(', ')}`;
  return { step: state.stepsUsed, action: 'open', status: 'ok', message, info, ...ending(state, budget, nowMs) };
}

/** When a session without actions ends: its idle timeout after the last action, or its wall time if sooner. */
export function idleDeadlineMs(state: SessionState, budget: Budget): number {
  return Math.min(state.lastActionAtMs + budget.idleTimeoutS * 1000, state.startedAtMs + budget.wallTimeS * 1000);
}

/** The session saw no action until its deadline: it ends, out of wall time or idle. */
export function idleOut(state: SessionState, budget: Budget, nowMs: number): SessionState {
  return end(state, budgetLeft(state, budget, nowMs).wallTimeLeftS <= 0 ? 'wall-time' : 'idle');
}

/** What the session is, for its state query and `GET /v1/envs/:id`. */
export interface SessionFacts {
  envId: string;
  taskId: string;
  rewardMode: RewardMode;
  budget: Budget;
  /** empty until the session has opened its task */
  trajectory: string;
  placement?: string;
}

export function envStateOf(facts: SessionFacts, state: SessionState): EnvState {
  const { envId, taskId, rewardMode, budget, trajectory, placement } = facts;
  return {
    envId,
    taskId,
    rewardMode,
    budget,
    stepsUsed: state.stepsUsed,
    startedAt: new Date(state.startedAtMs).toISOString(),
    done: isDone(state),
    doneReason: state.doneReason,
    best: state.best,
    ...(isDone(state) && finalOf(state) ? { final: finalOf(state) } : {}),
    trajectory,
    placement,
  };
}

/** A trajectory line's timings. */
export function stepTimings(startedAtMs: number, endedAtMs: number) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return { startedAt: iso(startedAtMs), endedAt: iso(endedAtMs), ms: endedAtMs - startedAtMs };
}
