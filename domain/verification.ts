import type { RungResult } from './ladder';

/** One verification check's verdict, as written to verification.json. */
export interface CheckResult {
  /** a name from CHECKS */
  name: string;
  passed: boolean;
  /** one line a person can act on */
  detail: string;
  /** what the check saw (numbers, samples, tracebacks), for the Designer's repair round */
  evidence?: unknown;
}

/**
 * Every check, by stage. `assertions` run in the sandbox (sandbox/harness/verify_assertions.py),
 * `review` is the Reviewer role, `execution` runs the trivial and baseline submissions, `ladder` the
 * reference ladder once execution passed.
 */
export const CHECKS = {
  assertions: [
    'files.present', // PACKAGE_FILES exist
    'files.no_links', // no symbolic link or special file anywhere in the package (checked on the host, never followed)
    'manifest.valid', // task.json matches the v1 schema
    'description.sections', // overview, data, evaluation, submission format
    'prepare.runs', // prepare(raw, public, private) finishes and writes PUBLIC_FILES / PRIVATE_FILES
    'prepare.deterministic', // two runs give identical file hashes
    'test.no_target', // the target column is not in test.csv
    'public.no_answers', // no file under public/ gives the answers back: copies, recoded or renamed columns, id→label maps
    'ids.unique', // ids unique in test, sample submission and answers
    'ids.aligned', // the same ids in test, sample submission and answers
    'split.no_row_leak', // no test row (features) repeated in train, no shared ids
    'id.not_predictive', // the id column does not encode the label
    'target.not_trivial', // no tiny model on one or two train columns predicts the target near-perfectly (forecasting: no naive forecast does)
    'forecast.time_split', // forecasting: in every series each test time follows every train time
    'forecast.no_future_features', // forecasting: no feature holds the target of a later time of its series
    'sample.columns', // sample submission columns = [idColumn, target]
    'metric.perfect_answers', // answers scored against themselves reach the best bound
    'metric.sample_valid', // the sample submission grades to a finite score
    'metric.direction', // perfect beats the sample submission in the declared direction
    'metric.behaviour', // shuffled and constant submissions score worse, bounds hold, the metric fits the task type
    'metric.order_invariant', // shuffled rows score the same
    'metric.rejects_malformed', // missing, extra, duplicated, NaN rows and wrong columns raise InvalidSubmission
    'metric.deterministic', // the same submission scores the same twice
    'package.contained', // package code made no links or special files and left prepare's outputs unchanged
    // image files under public/, checked on the host (activities/verification-images.ts)
    'images.no_test_in_train', // no test image repeated byte for byte among the other public images
    'images.no_label_in_names', // test images' file names do not spell their answers
    'images.no_label_in_metadata', // nor do their PNG text chunks, EXIF or JPEG comments
  ],
  review: ['review.description_complete', 'review.metric_fits', 'review.target_meaningful', 'review.no_answer_hints'],
  execution: ['baseline.runs', 'baseline.valid', 'baseline.beats_trivial', 'baseline.not_perfect'],
  /** after the execution stage passes: the reference ladder (domain/ladder.ts) */
  ladder: ['ladder.enough_rungs'], // at least MIN_VALID_RUNGS rungs gave valid submissions
} as const;

export type Verdict = 'verified' | 'rejected';

export interface VerificationReport {
  status: Verdict;
  checks: CheckResult[];
  /** scores of the reference submissions, for leaderboard.csv */
  scores?: { trivial?: number; baseline?: number };
  /** each rung of the reference ladder: its score, or why it is off the board */
  ladder?: RungResult[];
}

export function verdictOf(checks: CheckResult[]): Verdict {
  return checks.every((c) => c.passed) ? 'verified' : 'rejected';
}

/** Checks that ran and failed, in order: the causes (later checks are often only "not run" because of them). */
export function failedChecks(checks: CheckResult[]): CheckResult[] {
  return checks.filter((c) => !c.passed && !c.detail.startsWith('not run'));
}

/** What a rejected package needs, in one line: its first failed check, and what to do next. */
export function rejectionHint(checks: CheckResult[]): string | undefined {
  const [first, ...rest] = failedChecks(checks);
  if (!first) return undefined;
  const more = rest.length ? ` (and ${rest.map((c) => c.name).join(', ')})` : '';
  return `fix ${first.name}${more} as its detail says, then run \`anvil verify\` again`;
}
