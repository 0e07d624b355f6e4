import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EnvSandboxDeps, createEnvSandboxActivities } from '../activities/env/sandbox';
import type { TaskInfo } from '../domain/env';
import { runOutcome } from '../domain/outcomes';
import { openSession, startStep, step, stepTimings } from '../domain/session';
import { createTrajectories } from '../package/trajectories';

// A retried runAndRecord (its first attempt was lost after the append) answers from the trajectory.
// The host here has no sandbox at all: a step that tried to run would fail.
const trajectories = createTrajectories({ dir: mkdtempSync(join(tmpdir(), 'anvil-rr-')) });
const noSandbox = { trajectories } as EnvSandboxDeps;
const task: Pick<TaskInfo, 'metric' | 'leaderboards'> = {
  metric: { name: 'accuracy', higherIsBetter: true },
  leaderboards: [{ name: 'public', scores: [0.95, 0.9, 0.8, 0.7] }],
};
const terms = { budget: { steps: 10, wallTimeS: 600, idleTimeoutS: 60 }, rewardMode: 'position' as const, task };
const T0 = 1_000_000;

describe('a code step run and recorded on the sandbox host', () => {
  it('runs nothing again for a step the trajectory holds, and answers with its record', async () => {
    const trajectory = await trajectories.open('env-1');
    const session = startStep(openSession(T0), T0 + 1000);
    const run = { exitCode: 0, timedOut: false, oomKilled: false, wallMs: 30, stdout: 'ok\n', stderr: '' };
    const outcome = runOutcome(
      { run: { ...run, outputTruncated: false }, submission: { valid: true, score: 0.92 } },
      { grade: 'score', limits: { timeoutS: 60, memoryMb: 512 }, task, moved: false },
    );
    const first = step(session, 'execute_code', outcome, terms, T0 + 1500);
    const params = { code: 'print("ok")' };
    const { observation, reward } = first;
    await trajectories.append(trajectory, {
      envId: 'env-1',
      taskId: 'iris',
      step: 1,
      action: 'execute_code',
      params,
      observation,
      reward,
      done: false,
      timings: stepTimings(T0 + 1000, T0 + 1500),
    });
    const input = {
      envId: 'env-1',
      taskId: 'iris',
      packageDir: '/catalog/iris',
      code: params.code,
      limits: { cpus: 1, memoryMb: 512, timeoutS: 60 },
      action: 'execute_code' as const,
      params,
      session: { ...session, history: [] },
      terms,
      moved: false,
      trajectory,
      startedAtMs: T0 + 1000,
    };
    const { runAndRecord } = createEnvSandboxActivities(noSandbox);
    const again = await runAndRecord(input);
    expect(again).toEqual(first);
    // The next step is not recorded: it would run, and with no sandbox here it cannot.
    await expect(runAndRecord({ ...input, session: startStep(again.state, T0 + 2000) })).rejects.toThrow();
  });
});
