import { basename, join, resolve } from 'node:path';
import { readCompetitionPython, topLevelDefinitions } from './competition-python';
import { LAYOUT } from '../layout';
import { ImportError } from './import-error';
import { higherIsBetterFromLeaderboard } from './metric-facts';
import { titleFromId } from './naming';
import { embedPython } from './shim';
import { firstExisting, parseCsvRecords, readSourceFile, requireCompetitionFolder } from './source-files';
import type { ConvertedCompetition, HumanEntry, ImportOptions, ImportResult } from './types';
import { writeImportedPackage } from './write-package';

/*
 * An MLE-Dojo competition is a folder mledojo/competitions/<name>/ of github.com/MLE-Dojo/MLE-Dojo:
 *   utils/metric.py   a CompetitionMetrics subclass named *Metrics (mledojo.competitions.registry.get_metric
 *                     takes the first such name, sorted), built with no arguments: higher_is_better,
 *                     validate_submission(submission, ground_truth) (any exception: invalid submission),
 *                     evaluate(ground_truth, submission) -> float
 *   utils/prepare.py  prepare(raw, public, private), called positionally; writes private/test_answer.csv
 *   info/description.txt, info/public_leaderboard.csv and/or info/private_leaderboard.csv (rank,score)
 * The data is not in the folder: prepare/mle.py downloads it from Kaggle into <data>/<name>/raw.
 */

const DESCRIPTIONS = ['info/description.txt', 'info/description.md', 'description.txt', 'description.md'];
const BOARDS = ['public', 'private'] as const;
/** The files an MLE-Dojo competition folder must have. */
const REQUIRED = [['utils/prepare.py'], ['utils/metric.py'], DESCRIPTIONS];

/** The body of top-level class `name` (its indented lines). */
function classBody(code: string, name: string): string {
  const lines = code.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^class\\s+${name}\\b`).test(l));
  const end = lines.findIndex((l, i) => i > start && /^[^\s#]/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The metric's higher_is_better as its class sets it, or undefined when the code does not say plainly. */
function higherIsBetterOf(body: string): boolean | undefined {
  const patterns = [
    /def\s+__init__\s*\([^)]*\bhigher_is_better\s*(?::\s*bool\s*)?=\s*(True|False)/,
    /super\(\)\.__init__\(\s*(?:higher_is_better\s*=\s*)?(True|False)\s*\)/,
    /self\.higher_is_better\s*=\s*(True|False)/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(body);
    if (match) return match[1] === 'True';
  }
  // no __init__: CompetitionMetrics' default
  return /def\s+__init__/.test(body) ? undefined : true;
}

/** The metric's name from the scikit-learn function its code calls. */
function metricNameOf(body: string): string | undefined {
  const root = /\b(sqrt|squared\s*=\s*False)\b/.test(body);
  const names: Array<[RegExp, string]> = [
    [/\broc_auc_score\b/, 'roc-auc'],
    [/\blog_loss\b/, 'log-loss'],
    [/\baccuracy_score\b/, 'accuracy'],
    [/\bf1_score\b[^)]*average\s*=\s*["']macro/, 'macro-f1'],
    [/\bf1_score\b/, 'f1'],
    [/\bcohen_kappa_score\b[^)]*quadratic/, 'quadratic-weighted-kappa'],
    [/\bcohen_kappa_score\b/, 'cohen-kappa'],
    [/\bmatthews_corrcoef\b/, 'mcc'],
    [/\bmean_squared_log_error\b/, root ? 'rmsle' : 'msle'],
    [/\bmean_squared_error\b/, root ? 'rmse' : 'mse'],
    [/\bmean_absolute_error\b/, 'mae'],
    [/\br2_score\b/, 'r2'],
    [/\bspearmanr\b/, 'spearman'],
  ];
  return names.find(([pattern]) => pattern.test(body))?.[1];
}

async function readLeaderboards(
  dir: string,
  warnings: string[],
): Promise<{ entries: HumanEntry[]; orders: Array<[string, boolean | undefined]> }> {
  const present = (
    await Promise.all(
      BOARDS.map(
        async (board) => [board, await firstExisting([join(dir, 'info', `${board}_leaderboard.csv`)])] as const,
      ),
    )
  ).filter((pair): pair is readonly [(typeof BOARDS)[number], string] => pair[1] !== undefined);
  const entries: HumanEntry[] = [];
  const orders: Array<[string, boolean | undefined]> = [];
  for (const [board, path] of present) {
    const rows = parseCsvRecords(await readSourceFile(path, `MLE-Dojo ${board}_leaderboard.csv`), path);
    const skipped: number[] = [];
    const scores: number[] = [];
    rows.forEach((row, i) => {
      // MLE-Dojo reads the score from the second column, whatever its name
      const score = Object.values(row)[1] ?? '';
      if (score === '' || !Number.isFinite(Number(score))) return skipped.push(i + 1);
      scores.push(Number(score));
      entries.push({
        entry: row.teamName || row.TeamName || `row-${i + 1}`,
        score,
        board: present.length > 1 ? board : 'public',
      });
    });
    if (skipped.length) {
      warnings.push(
        `${path}: skipped ${skipped.length} row(s) without a score (row ${skipped.slice(0, 5).join(', ')})`,
      );
    }
    orders.push([path, higherIsBetterFromLeaderboard(scores)]);
  }
  return { entries, orders };
}

/**
 * Converts an MLE-Dojo competition folder (mledojo/competitions/<name>) and its raw data into an
 * Anvil task package at opts.outDir/<taskId>.
 */
export async function importMleDojo(competitionDir: string, opts: ImportOptions): Promise<ImportResult> {
  const dir = resolve(competitionDir);
  await requireCompetitionFolder(dir, 'mle-dojo', REQUIRED, { kind: 'mle-bench', marker: 'config.yaml' });
  const id = basename(dir);
  const warnings: string[] = [];
  const metricPath = join(dir, 'utils', 'metric.py');
  const metric = await readCompetitionPython(metricPath, 'utils/metric.py');
  const prepare = await readCompetitionPython(join(dir, 'utils', 'prepare.py'), 'utils/prepare.py');
  if (!topLevelDefinitions(prepare.code).has('prepare')) {
    throw new ImportError(
      `${join(dir, 'utils', 'prepare.py')} defines no prepare(raw, public, private): ` +
        'MLE-Dojo calls that function; add it',
    );
  }

  const classes = [...metric.code.matchAll(/^class\s+(\w+)/gm)].map((m) => m[1]!);
  const className = classes.filter((n) => n.endsWith('Metrics') && n !== 'CompetitionMetrics').sort()[0];
  if (!className) {
    throw new ImportError(
      `${metricPath} defines no class named *Metrics, which MLE-Dojo looks for: name the metric class so`,
    );
  }
  const body = classBody(metric.code, className);
  const { entries, orders } = await readLeaderboards(dir, warnings);
  let higherIsBetter = higherIsBetterOf(body);
  if (higherIsBetter === undefined) {
    higherIsBetter = orders.map(([, order]) => order).find((order) => order !== undefined);
    if (higherIsBetter === undefined) {
      throw new ImportError(
        `${metricPath}: cannot tell ${className}'s higher_is_better from its code, nor from a leaderboard: ` +
          'set it as a literal default of __init__',
      );
    }
    warnings.push(
      `${className} does not set higher_is_better plainly; taken from the leaderboard's order as ` +
        `${higherIsBetter ? 'higher' : 'lower'}-is-better`,
    );
  }
  for (const [path, order] of orders) {
    if (order !== undefined && order !== higherIsBetter) {
      warnings.push(
        `${path} is ordered as if ${order ? 'higher' : 'lower'} were better, but ${className}.higher_is_better ` +
          `is ${higherIsBetter ? 'True' : 'False'}; ${LAYOUT.manifest} follows the metric class`,
      );
    }
  }
  let metricName = metricNameOf(body);
  if (!metricName) {
    metricName = 'custom';
    warnings.push(`cannot tell which metric ${className} computes: task.json names it "custom"; rename it there`);
  }

  const descriptionPath = await firstExisting(DESCRIPTIONS.map((f) => join(dir, f)));
  if (!descriptionPath) {
    throw new ImportError(
      `${dir} has no description (looked for ${DESCRIPTIONS.join(', ')}): ` +
        'MLE-Dojo keeps it in info/description.txt; add it',
    );
  }

  const converted: ConvertedCompetition = {
    kind: 'mle-dojo',
    competitionId: id,
    title: titleFromId(id),
    description: await readSourceFile(descriptionPath, 'MLE-Dojo description'),
    metric: { name: metricName, higherIsBetter },
    prepareCode: await embedPython({
      docstring: `Anvil prepare.py for the MLE-Dojo competition ${id}, converted by \`anvil import\`.

prepare(raw, public, private) runs the competition's own utils/prepare.py (section 2) on a scratch
view of raw/ (it deletes raw/ when done), then moves private/test_answer.csv to private/answers.csv.`,
      source: prepare,
      origin: `utils/prepare.py of mledojo/competitions/${id}`,
      adapter: `
_anvil_source_prepare = prepare


def prepare(raw, public, private):
    _anvil_shim.run_prepare(_anvil_source_prepare, raw, public, private, answers="test_answer.csv", keywords=False)`,
    }),
    metricCode: await embedPython({
      docstring: `Anvil metric.py for the MLE-Dojo competition ${id} (${metricName}), converted by \`anvil import\`.

grade(submission, answers) grades as MLE-Dojo does with ${className} (section 2): a fresh metric
object, validate_submission(submission, answers), whose errors make the submission invalid
(InvalidSubmission), then evaluate(answers, submission), whose errors on a malformed submission do too.`,
      source: metric,
      origin: `utils/metric.py of mledojo/competitions/${id}`,
      adapter: `
_ANVIL_METRIC = ${className}


class InvalidSubmission(Exception):
    """The submission cannot be scored; the message says why."""


def grade(submission, answers):
    metric = _ANVIL_METRIC()
    # MLE-Dojo's metrics change the frames they get (ids to text); keep the caller's intact
    submission, answers = submission.copy(), answers.copy()
    try:
        metric.validate_submission(submission, answers)
    except (_anvil_shim.InvalidSubmissionError, *_anvil_shim.SUBMISSION_ERRORS) as error:
        raise InvalidSubmission(str(error) or type(error).__name__) from error
    try:
        return float(metric.evaluate(answers, submission))
    except _anvil_shim.SUBMISSION_ERRORS as error:
        # MLE-Dojo reports this as a failed submission too (EvaluationError)
        why = f"the metric could not score this submission: {type(error).__name__}: {error}"
        raise InvalidSubmission(why) from error`,
    }),
    leaderboard: entries,
    warnings,
  };
  return writeImportedPackage(dir, converted, opts);
}
