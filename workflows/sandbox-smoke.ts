import { ApplicationFailure } from '@temporalio/workflow';
import { describeRunEnd } from '../domain/sandbox';
import { sandboxActivities, smokeActivities } from './activity-proxies';

export interface SandboxSmokeInput {
  /** an example dataset with a smoke script (activities/smoke.ts); default penguins */
  dataset?: string;
}

export interface SandboxSmokeResult {
  dataset: string;
  metric: string;
  score: number;
  rows: number;
  /** seconds the training run took inside the sandbox */
  runSeconds: number;
}

const LIMITS = { cpus: 1, memoryMb: 1024, timeoutS: 300 };

/** Stages a real dataset, trains a scikit-learn model on it in the sandbox and returns the score. */
export async function sandboxSmoke(input: SandboxSmokeInput = {}): Promise<SandboxSmokeResult> {
  const dataset = input.dataset ?? 'penguins';
  const staged = await smokeActivities.stageSmoke({ dataset });
  const run = await sandboxActivities().runInSandbox({ code: staged.code, dataDir: staged.dataDir, limits: LIMITS });

  const lastLine = run.stdout.trim().split('\n').at(-1) ?? '';
  let report: { metric?: unknown; score?: unknown; rows?: unknown } = {};
  try {
    report = JSON.parse(lastLine);
  } catch {
    // reported below with the run's own output
  }
  if (run.exitCode !== 0 || typeof report.score !== 'number') {
    throw ApplicationFailure.nonRetryable(
      `smoke training on ${dataset} ${describeRunEnd(run, { ...LIMITS })} without a score line; stderr tail:\n${run.stderr.slice(-2000)}`,
      'SmokeRunFailed',
    );
  }
  return {
    dataset,
    metric: String(report.metric),
    score: report.score,
    rows: Number(report.rows),
    runSeconds: run.wallMs / 1000,
  };
}
