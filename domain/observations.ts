import type { Leaderboard, ObservationError, RunSummary, Scores } from './env';
import { humanRank, medalOf, medalThresholds } from './rewards';
import type { MetricSpec } from './task';

/**
 * How the Dojo turns a run and a grade into what the agent reads: errors with their likely
 * causes, and scores against the task's leaderboards.
 */

/** Python's exception line (`KeyError: 'x'`) from the end of a traceback, if any. */
function pythonException(stderr: string): { type: string; message: string } | undefined {
  const lines = stderr.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 40; i--) {
    const m = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|StopIteration)(?::\s?(.*))?$/.exec(
      lines[i]!,
    );
    if (m) return { type: m[1]!.split('.').at(-1)!, message: (m[2] ?? '').trim() || m[1]! };
  }
  return undefined;
}

const CAUSES: Record<string, string[]> = {
  FileNotFoundError: [
    'the public data is read-only under /data (train.csv, test.csv, sample_submission.csv); write files under /workspace',
  ],
  PermissionError: ['only /workspace (and /tmp) are writable; /data is read-only'],
  ModuleNotFoundError: [
    'only the preinstalled stack is available (pandas, numpy, scipy, scikit-learn, …) and there is no network to install more',
  ],
  KeyError: ['a column name does not exist: request_info kind "data" lists the columns of train.csv'],
  MemoryError: ['the step used more memory than its limit: sample rows, use smaller dtypes or fewer features'],
  ValueError: ['check dtypes and missing values: categorical or text columns need encoding, NaNs need imputing'],
  SyntaxError: ['the code is not valid Python 3'],
  IndentationError: ['the code is not valid Python 3'],
  NameError: [
    'a variable or import is missing: each step runs as a fresh Python process; only files in /workspace persist',
  ],
};

/** The error of a run that did not exit 0, or undefined when it did. */
export function runError(
  run: RunSummary,
  limits: { timeoutS: number; memoryMb: number },
): ObservationError | undefined {
  if (run.timedOut) {
    return {
      type: 'Timeout',
      message: `the step was stopped at its time limit of ${limits.timeoutS} s`,
      likelyCauses: [
        'the model or data is too large for the time limit: train on a sample, use fewer estimators or iterations',
        'an infinite loop',
      ],
    };
  }
  if (run.oomKilled) {
    return {
      type: 'OutOfMemory',
      message: `the step was killed for using more than ${limits.memoryMb} MB of memory`,
      likelyCauses: CAUSES.MemoryError!,
    };
  }
  if (run.exitCode === 0) return undefined;
  const exception = pythonException(run.stderr);
  if (!exception) {
    return {
      type: 'RuntimeError',
      message: `the step exited with code ${run.exitCode}`,
      likelyCauses: run.exitCode === 137 ? ['the process was killed (memory or process limit)'] : ['see stderr'],
    };
  }
  return {
    type: exception.type,
    message: exception.message,
    likelyCauses: CAUSES[exception.type] ?? ['see the traceback in stderr'],
  };
}

export function missingSubmission(): ObservationError {
  return {
    type: 'MissingSubmission',
    message: 'the code ran but wrote no /workspace/submission.csv',
    likelyCauses: [
      'write the predictions for every test row to /workspace/submission.csv, in the columns of /data/sample_submission.csv',
    ],
  };
}

export function invalidSubmission(message: string): ObservationError {
  return {
    type: 'InvalidSubmission',
    message,
    likelyCauses: [
      'the submission must have exactly the columns and ids of /data/sample_submission.csv, one row per test row, no missing values',
      'labels must be of the kind the task expects (request_info kind "metric")',
    ],
  };
}

/** A graded score placed on the task's leaderboards: raw, HumanRank averaged over boards, medal on the first. */
export function scoresOf(raw: number, leaderboards: Leaderboard[], metric: Pick<MetricSpec, 'higherIsBetter'>): Scores {
  const boards = leaderboards.filter((b) => b.scores.length > 0);
  if (boards.length === 0) return { raw, position: 0, medal: 'none' };
  const position = boards.reduce((sum, b) => sum + humanRank(raw, b.scores, metric), 0) / boards.length;
  const medal = medalOf(raw, medalThresholds(boards[0]!.scores, metric), metric);
  return { raw, position, medal };
}

/** The better of two score sets under the metric (undefined counts as worst). */
export function bestOf(
  a: Scores | undefined,
  b: Scores | undefined,
  metric: Pick<MetricSpec, 'higherIsBetter'>,
): Scores | undefined {
  if (!a) return b;
  if (!b) return a;
  return (metric.higherIsBetter ? b.raw > a.raw : b.raw < a.raw) ? b : a;
}
