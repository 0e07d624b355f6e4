import { describe, expect, it } from 'vitest';
import type { Budget, RunSummary, TaskInfo } from '../domain/env';
import {
  type GradedRun,
  heldOutOf,
  type Outcome,
  runOutcome,
  type RunTerms,
  sandboxFailure,
  selectOutcome,
} from '../domain/outcomes';
import {
  budgetLeft,
  end,
  endedObservation,
  envStateOf,
  finalOf,
  HISTORY_KEPT,
  historyOutcome,
  idleDeadlineMs,
  idleOut,
  mergeHistory,
  openSession,
  overviewObservation,
  retake,
  runLimits,
  type SessionState,
  scoredSteps,
  type SessionTerms,
  startStep,
  step,
  submissionsLeft,
} from '../domain/session';

/** The session's rules, without Temporal: every clock reading is an argument. */

const task: TaskInfo = {
  taskId: 'iris',
  packageDir: '/catalog/iris',
  title: 'Iris species',
  taskType: 'multiclass-classification',
  target: 'species',
  idColumn: 'id',
  metric: { name: 'accuracy', higherIsBetter: true },
  resources: { cpus: 2, memoryMb: 1024, gpu: false, timeLimitS: 120 },
  description: 'Predict the species.',
  files: [{ name: 'train.csv', bytes: 100 }],
  columns: [],
  sampleSubmission: 'id,species\n1,setosa',
  // HumanRank of 0.85 here: 2 of 4 better → 0.5
  leaderboards: [{ name: 'public', scores: [0.95, 0.9, 0.8, 0.7] }],
};
const budget: Budget = { steps: 3, wallTimeS: 600, idleTimeoutS: 60 };
const terms = (over: Partial<SessionTerms> = {}): SessionTerms => ({ budget, rewardMode: 'position', task, ...over });
const T0 = 1_000_000;
const ok = (message: string): Outcome => ({ status: 'ok', message });
const run = (over: Partial<RunSummary> = {}): RunSummary => ({
  exitCode: 0,
  timedOut: false,
  oomKilled: false,
  wallMs: 2345,
  stdout: '',
  stderr: '',
  outputTruncated: false,
  ...over,
});
const scoreTerms: RunTerms = { grade: 'score', limits: { timeoutS: 120, memoryMb: 1024 }, task, moved: false };
const scored = (score: number) => runOutcome({ run: run(), submission: { valid: true, score } }, scoreTerms);

/** One whole step: started at `at`, ended `tookMs` later. */
const take = (state: SessionState, outcome: Outcome, at: number, tookMs = 0, over: Partial<SessionTerms> = {}) =>
  step(startStep(state, at), 'execute_code', outcome, terms(over), at + tookMs);

describe('the public/private split in a session', () => {
  const graded = (pub: number, priv: number) => ({
    run: run(),
    submission: { valid: true, score: (pub + priv) / 2, public: pub, private: priv },
  });
  const rules = { task, rewardMode: 'raw' as const };
  const execute = (state: SessionState, pub: number, priv: number, at: number) => {
    const g = graded(pub, priv);
    return step(startStep(state, at), 'execute_code', runOutcome(g, scoreTerms), terms({ rewardMode: 'raw' }), at, {
      held: heldOutOf(g, rules),
    });
  };

  it('shows the public score only: submissions that differ on private rows observe alike', () => {
    const a = execute(openSession(T0), 0.9, 0.2, T0);
    const b = execute(openSession(T0), 0.9, 0.8, T0);
    expect(a.observation).toEqual(b.observation);
    expect(a.observation.score!.raw).toBe(0.9);
    expect(a.reward).toBe(b.reward);
    expect(finalOf(a.state)).toMatchObject({ step: 1, reward: 0.2 });
    expect(finalOf(b.state)).toMatchObject({ step: 1, reward: 0.8 });
  });

  it('the final submission is the selected one, else the last scored; the state reveals it only at the end', () => {
    const roomy = terms({ budget: { ...budget, steps: 10 } });
    const first = execute(openSession(T0), 0.9, 0.7, T0);
    const second = execute(first.state, 0.5, 0.4, T0 + 1);
    expect(finalOf(second.state)).toMatchObject({ step: 2, reward: 0.4 });
    expect(selectOutcome(3, scoredSteps(second.state))).toMatchObject({ error: { type: 'NoSuchSubmission' } });
    const chosen = step(startStep(second.state, T0 + 2), 'select_submission', selectOutcome(1, [1, 2]), roomy, T0 + 2, {
      selected: 1,
    });
    expect(finalOf(chosen.state)).toMatchObject({ step: 1, reward: 0.7 });
    const facts = { envId: 'e', taskId: 'iris', rewardMode: 'raw' as const, budget, trajectory: '' };
    expect(envStateOf(facts, chosen.state).final).toBeUndefined();
    expect(envStateOf(facts, end(chosen.state, 'closed')).final).toMatchObject({ step: 1, reward: 0.7 });
    expect(submissionsLeft(chosen.state, { ...budget, submissions: 2 })).toBe(0);
    expect(submissionsLeft(chosen.state, budget)).toBeUndefined();
  });
});

describe('a step', () => {
  it('counts against the budget from its start, and ends with its observation, history entry and reward', () => {
    const started = startStep(openSession(T0), T0 + 5_000);
    expect(started).toMatchObject({ stepsUsed: 1, lastActionAtMs: T0 + 5_000 });
    expect(budgetLeft(started, budget, T0 + 5_000)).toEqual({ stepsUsed: 1, stepsLeft: 2, wallTimeLeftS: 595 });

    const { state, observation, reward } = step(
      started,
      'request_info',
      ok('overview of task iris'),
      terms(),
      T0 + 7_400,
    );
    expect(state).toEqual({
      stepsUsed: 1,
      startedAtMs: T0,
      lastActionAtMs: T0 + 7_400,
      best: undefined,
      history: [{ step: 1, action: 'request_info', status: 'ok', summary: 'overview of task iris' }],
    });
    expect(observation).toEqual({
      step: 1,
      action: 'request_info',
      status: 'ok',
      message: 'overview of task iris',
      budget: { stepsUsed: 1, stepsLeft: 2, wallTimeLeftS: 593 },
      done: false,
    });
    expect(reward).toBe(0);
  });

  it('scores: the best score moves under the metric, the observation carries it, the reward follows the mode', () => {
    const first = take(openSession(T0), scored(0.85), T0);
    expect(first.observation).toMatchObject({ score: { raw: 0.85, position: 0.5 }, best: { raw: 0.85 } });
    expect(first.reward).toBe(0.5);
    expect(first.state.history.at(-1)).toMatchObject({ step: 1, score: 0.85 });

    const worse = take(first.state, scored(0.75), T0 + 1_000, 0, { rewardMode: 'raw' });
    expect(worse.observation).toMatchObject({ score: { raw: 0.75 }, best: { raw: 0.85 } });
    expect(worse.state.best?.raw).toBe(0.85);
    expect(worse.reward).toBe(0.75);

    const lowerWins = take(first.state, scored(0.75), T0 + 1_000, 0, {
      task: { ...task, metric: { name: 'rmse', higherIsBetter: false } },
    });
    expect(lowerWins.state.best?.raw).toBe(0.75);
  });

  it('earns nothing and leaves the best alone without a valid submission', () => {
    const first = take(openSession(T0), scored(0.85), T0);
    const invalid = runOutcome({ run: run(), submission: { valid: false, error: 'missing ids' } }, scoreTerms);
    const second = take(first.state, invalid, T0 + 1_000);
    expect(second.reward).toBe(0);
    expect(second.state.best?.raw).toBe(0.85);
    expect(second.observation).not.toHaveProperty('best');
    expect(second.state.history.at(-1)).toEqual({
      step: 2,
      action: 'execute_code',
      status: 'error',
      summary: 'the submission is invalid: missing ids',
    });
  });

  it('ends the session on its last step, and at the end of its wall time', () => {
    let state = openSession(T0);
    for (let i = 0; i < 2; i++) state = take(state, ok('ran'), T0 + i * 1000).state;
    const last = take(state, ok('ran'), T0 + 3_000);
    expect(last.observation).toMatchObject({ done: true, doneReason: 'steps', budget: { stepsUsed: 3, stepsLeft: 0 } });
    expect(last.state.doneReason).toBe('steps');

    // 600 s of wall time: 0.6 s left rounds to 1 s and the session goes on; 0.4 s rounds to 0 and it ends
    expect(take(openSession(T0), ok('ran'), T0, 599_400).observation).toMatchObject({
      done: false,
      budget: { wallTimeLeftS: 1 },
    });
    const late = take(openSession(T0), ok('ran'), T0, 599_600);
    expect(late.observation).toMatchObject({ done: true, doneReason: 'wall-time', budget: { wallTimeLeftS: 0 } });
  });

  it(`keeps the last ${HISTORY_KEPT} steps, each summed up in at most 300 characters`, () => {
    const history = Array.from({ length: HISTORY_KEPT }, (_, i) => ({
      step: i + 1,
      action: 'reset' as const,
      status: 'ok' as const,
      summary: 'x',
    }));
    const full = { ...openSession(T0), stepsUsed: HISTORY_KEPT, history };
    const { state } = take(full, ok('y'.repeat(500)), T0, 0, { budget: { ...budget, steps: 1000 } });
    expect(state.history).toHaveLength(HISTORY_KEPT);
    expect(state.history[0]!.step).toBe(2);
    expect(state.history.at(-1)).toMatchObject({ step: HISTORY_KEPT + 1, summary: 'y'.repeat(300) });
  });
});

describe('a step on the sandbox host', () => {
  it('given the session without its history, leaves a history the workflow merges into the same one', () => {
    const long = { budget: { ...budget, steps: 1000 } };
    let whole = openSession(T0);
    let slim = openSession(T0);
    for (let i = 1; i <= HISTORY_KEPT + 5; i++) {
      const outcome = scored(0.8 + (i % 3) / 100);
      whole = take(whole, outcome, T0 + i, 0, long).state;
      const taken = take({ ...slim, history: [] }, outcome, T0 + i, 0, long).state;
      slim = { ...taken, history: mergeHistory(slim.history, taken.history) };
    }
    expect(slim).toEqual(whole);
    expect(slim.history).toHaveLength(HISTORY_KEPT);
    // A host given the whole history (a run recorded before) answers with all of it: no entry twice.
    const all = take(whole, ok('again'), T0 + 1000, 0, long);
    expect(mergeHistory(whole.history, all.state.history)).toEqual(all.state.history);
  });

  it('taken again from its recorded observation, gives the same state, observation and reward', () => {
    const before = take(openSession(T0), scored(0.85), T0).state;
    const started = startStep(before, T0 + 10_000);
    const first = step(started, 'execute_code', scored(0.95), terms(), T0 + 12_000);
    const again = retake(
      started,
      { observation: first.observation, reward: first.reward, endedAtMs: T0 + 12_000 },
      terms(),
    );
    expect(again).toEqual(first);
    expect(again.state.best?.raw).toBe(0.95);
  });
});

describe('the session around its steps', () => {
  it('keeps the first reason it ended for', () => {
    const closed = end(openSession(T0), 'closed');
    expect(end(closed, 'idle').doneReason).toBe('closed');
  });

  it('answers an action on an ended session with an error observation that counts no step', () => {
    const ended = end({ ...openSession(T0), stepsUsed: 2 }, 'idle');
    expect(endedObservation(ended, budget, T0 + 100_000)).toEqual({
      step: 2,
      action: 'open',
      status: 'error',
      message: 'the session has ended (idle)',
      error: {
        type: 'SessionEnded',
        message: 'the session has ended (idle)',
        likelyCauses: ['start a new session with POST /v1/envs'],
      },
      budget: { stepsUsed: 2, stepsLeft: 1, wallTimeLeftS: 500 },
      done: true,
      doneReason: 'idle',
    });
  });

  it('opens with the overview of the task, the actions and the reward mode', () => {
    const observation = overviewObservation(openSession(T0), terms({ rewardMode: 'medal' }), T0 + 10_000);
    expect(observation).toMatchObject({
      step: 0,
      action: 'open',
      status: 'ok',
      message: 'session on task iris: request_info, validate_code, execute_code, get_history, reset, select_submission',
      info: {
        kind: 'overview',
        title: 'Iris species',
        target: 'species',
        rewardMode: 'medal',
        actions: expect.arrayContaining(['reset']),
      },
      budget: { stepsUsed: 0, stepsLeft: 3, wallTimeLeftS: 590 },
      done: false,
    });
    expect(observation).not.toHaveProperty('doneReason');
    expect(JSON.stringify(observation)).not.toContain('/catalog/iris');
  });

  it('idles out at its idle timeout after the last action, or at its wall time if that comes first', () => {
    const state = { ...openSession(T0), lastActionAtMs: T0 + 100_000 };
    expect(idleDeadlineMs(state, budget)).toBe(T0 + 160_000);
    expect(idleDeadlineMs({ ...state, lastActionAtMs: T0 + 590_000 }, budget)).toBe(T0 + 600_000);
    expect(idleOut(state, budget, T0 + 160_000).doneReason).toBe('idle');
    expect(idleOut(state, budget, T0 + 600_000).doneReason).toBe('wall-time');
  });

  it('shows its state with the facts of the session', () => {
    const { state } = take(openSession(T0), scored(0.9), T0);
    const facts = {
      envId: 'env-1',
      taskId: 'iris',
      rewardMode: 'raw' as const,
      budget,
      trajectory: '/runs/env-1.jsonl',
      placement: 'q',
    };
    expect(envStateOf(facts, end(state, 'closed'))).toEqual({
      ...facts,
      stepsUsed: 1,
      startedAt: new Date(T0).toISOString(),
      done: true,
      doneReason: 'closed',
      best: { raw: 0.9, position: 0.75, medal: 'above-median' },
    });
  });

  it('answers get_history from the kept steps, with the best score', () => {
    let state = openSession(T0);
    for (const score of [0.7, 0.9, 0.8])
      state = take(state, scored(score), T0, 0, { budget: { ...budget, steps: 10 } }).state;
    const outcome = historyOutcome(state, 2);
    expect(outcome).toMatchObject({ status: 'ok', message: '2 past steps', best: { raw: 0.9 } });
    expect(outcome.history?.map((h) => h.score)).toEqual([0.9, 0.8]);
    expect(historyOutcome(state, undefined).history).toHaveLength(3);
  });

  it("runs code under the budget's limits where it sets them, else the task's", () => {
    expect(runLimits(budget, task)).toEqual({ cpus: 2, memoryMb: 1024, timeoutS: 120 });
    expect(runLimits({ ...budget, cpus: 1, runTimeoutS: 30 }, task)).toEqual({ cpus: 1, memoryMb: 1024, timeoutS: 30 });
  });
});

describe('the outcome of a code step', () => {
  const outcome = (graded: GradedRun, over: Partial<RunTerms> = {}) => runOutcome(graded, { ...scoreTerms, ...over });

  it("is the run's error when the code failed, noting a move to another host", () => {
    const failed = run({ exitCode: 1, stderr: "KeyError: 'petal'" });
    expect(outcome({ run: failed }, { moved: true })).toMatchObject({
      status: 'error',
      message: 'the code exited 1 (the session moved to another host: /workspace started empty)',
      error: { type: 'KeyError', message: "'petal'" },
    });
    expect(outcome({ run: run({ exitCode: null, timedOut: true }) }).message).toBe(
      'the code killed at its time limit of 120 s',
    );
  });

  it('checks a submission without scoring it', () => {
    const check = { grade: 'check' as const };
    expect(outcome({ run: run(), submission: { valid: true, score: 0.9 } }, check)).toEqual({
      status: 'ok',
      message: 'the code ran in 2.3 s; submission.csv would be accepted',
      run: run(),
      submission: { valid: true },
    });
    const rejected = outcome({ run: run(), submission: { valid: false, error: 'wrong columns' } }, check);
    expect(rejected).toMatchObject({
      message: 'the code ran in 2.3 s; submission.csv would be rejected: wrong columns',
      submission: { valid: false, error: 'wrong columns' },
    });
    expect(outcome({ run: run() }, check)).toMatchObject({
      status: 'ok',
      message: 'the code ran in 2.3 s; no submission.csv written',
      submission: undefined,
    });
  });

  it('scores a valid submission on the leaderboards, and is an error without one', () => {
    expect(outcome({ run: run(), submission: { valid: true, score: 0.88 } })).toEqual({
      status: 'ok',
      message: 'scored 0.88 (accuracy, public test rows); position 0.500, above-median',
      run: run(),
      score: { raw: 0.88, position: 0.5, medal: 'above-median' },
    });
    expect(outcome({ run: run() })).toMatchObject({
      status: 'error',
      message: 'the code ran but wrote no submission',
      error: { type: 'MissingSubmission' },
    });
    expect(outcome({ run: run(), submission: { valid: false } })).toMatchObject({
      error: { type: 'InvalidSubmission', message: 'rejected by the metric' },
    });
  });

  it('blames the infrastructure when the sandbox could not run it', () => {
    expect(sandboxFailure('worker lost')).toEqual({
      status: 'error',
      message: 'the sandbox failed to run the step',
      error: {
        type: 'SandboxError',
        message: 'worker lost',
        likelyCauses: ['an infrastructure failure, not your code: try the step again'],
      },
    });
  });
});
