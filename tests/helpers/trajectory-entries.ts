import type { TaskInfo, TrajectoryEntry } from '../../domain/env';
import { runOutcome } from '../../domain/outcomes';
import { openSession, type SessionState, startStep, step, type StepTerms, stepTimings } from '../../domain/session';

const task: Pick<TaskInfo, 'metric' | 'leaderboards'> = {
  metric: { name: 'accuracy', higherIsBetter: true },
  leaderboards: [{ name: 'public', scores: [0.95, 0.9, 0.8, 0.7] }],
};
export const TERMS: StepTerms = {
  budget: { steps: 10, wallTimeS: 600, idleTimeoutS: 60 },
  rewardMode: 'position',
  task,
};
export const T0 = 1_000_000;

/**
 * A session's scored `execute_code` steps as the Dojo's rules record them (domain/session.ts), one
 * per score; `before[i]` is the session as step i+1 started (what a runAndRecord of it is given).
 */
export function scoredSteps(envId: string, scores: number[]): { entries: TrajectoryEntry[]; before: SessionState[] } {
  let state = openSession(T0);
  const entries: TrajectoryEntry[] = [];
  const before: SessionState[] = [];
  scores.forEach((score, i) => {
    const startedAtMs = T0 + 1000 * (i + 1);
    const started = startStep(state, startedAtMs);
    before.push(started);
    const run = { exitCode: 0, timedOut: false, oomKilled: false, wallMs: 30, stdout: `run ${i}\n`, stderr: '' };
    const outcome = runOutcome(
      { run: { ...run, outputTruncated: false }, submission: { valid: true, score } },
      { grade: 'score', limits: { timeoutS: 60, memoryMb: 512 }, task, moved: false },
    );
    const taken = step(started, 'execute_code', outcome, TERMS, startedAtMs + 500);
    state = taken.state;
    const { observation, reward } = taken;
    entries.push({
      envId,
      taskId: 'iris',
      step: observation.step,
      action: 'execute_code',
      params: { code: `print(${i})` },
      observation,
      reward,
      done: observation.done,
      timings: stepTimings(startedAtMs, startedAtMs + 500),
    });
  });
  return { entries, before };
}
