import { basename, join, resolve } from 'node:path';
import { METRICS } from '../../domain/metrics';
import { readCompetitionPython, topLevelDefinitions } from './competition-python';
import { LAYOUT } from '../layout';
import { ImportError } from './import-error';
import { configField, configFunction, configPreparedFile, parseMleBenchConfig } from './mle-bench-config';
import { higherIsBetterFromLeaderboard, metricFacts } from './metric-facts';
import { titleFromId } from './naming';
import { embedPython } from './shim';
import { parseCsvRecords, readSourceFile, requireCompetitionFolder } from './source-files';
import type { ConvertedCompetition, HumanEntry, ImportOptions, ImportResult } from './types';
import { writeImportedPackage } from './write-package';

/*
 * An MLE-bench competition is a folder mlebench/competitions/<id>/ of github.com/openai/mle-bench:
 *   config.yaml      id, name, grader, preparer, dataset (see mle-bench-config.ts)
 *   prepare.py       prepare(raw, public, private), called with keywords; writes the answers to private/
 *   grade.py         grade(submission, answers) -> float; raises mlebench.grade_helpers.InvalidSubmissionError
 *   description.md   the Kaggle description
 *   leaderboard.csv  Kaggle's final leaderboard, best first:
 *                    scoreNullable,teamId,hasTeamName,submissionDate,score,hasScore
 *   checksums.yaml, kernels.txt, description_obfuscated.md (not used here)
 * The data is not in the folder: MLE-bench downloads it from Kaggle into <data>/<id>/raw.
 */

/** The files an MLE-bench competition folder must have. */
const REQUIRED = [['config.yaml'], ['prepare.py'], ['grade.py'], ['description.md'], ['leaderboard.csv']];

async function readLeaderboard(dir: string, warnings: string[]): Promise<HumanEntry[]> {
  const path = join(dir, 'leaderboard.csv');
  const rows = parseCsvRecords(await readSourceFile(path, 'MLE-bench leaderboard.csv'), path);
  if (rows.length > 0 && !('score' in rows[0]!)) {
    throw new ImportError(
      `${path} has no score column (columns: ${Object.keys(rows[0]!).join(', ')}): MLE-bench leaderboards have one`,
    );
  }
  const entries: HumanEntry[] = [];
  const skipped: number[] = [];
  rows.forEach((row, i) => {
    const score = row.score ?? '';
    if (score === '' || row.hasScore === 'False' || !Number.isFinite(Number(score))) skipped.push(i + 1);
    else entries.push({ entry: row.teamName || row.teamId || `row-${i + 1}`, score, board: 'public' });
  });
  if (skipped.length) {
    warnings.push(`${path}: skipped ${skipped.length} row(s) without a score (row ${skipped.slice(0, 5).join(', ')})`);
  }
  return entries;
}

/**
 * Converts an MLE-bench competition folder (mlebench/competitions/<id>) and its raw data into an
 * Anvil task package at opts.outDir/<taskId>.
 */
export async function importMleBench(competitionDir: string, opts: ImportOptions): Promise<ImportResult> {
  const dir = resolve(competitionDir);
  await requireCompetitionFolder(dir, 'mle-bench', REQUIRED, { kind: 'mle-dojo', marker: 'utils/metric.py' });
  const configPath = join(dir, 'config.yaml');
  const config = parseMleBenchConfig(await readSourceFile(configPath, 'MLE-bench config.yaml'), configPath);
  const id = configField(config, 'id') ?? basename(dir);
  const warnings: string[] = [];

  const answers = configPreparedFile(config, 'dataset.answers', id, 'private', configPath);
  if (!answers) {
    throw new ImportError(
      `${configPath} has no dataset.answers: MLE-bench configs name the answers file the grader reads; add it`,
    );
  }
  if (!answers.endsWith('.csv')) {
    throw new ImportError(
      `${configPath}: the answers, private/${answers}, are not a CSV file, and Anvil grades against ` +
        `${LAYOUT.answers}: this competition cannot be imported as is`,
    );
  }
  const sample =
    configPreparedFile(config, 'dataset.sample_submission', id, 'public', configPath) ?? 'sample_submission.csv';
  const gradeFn = configFunction(config, 'grader.grade_fn', id, 'grade', configPath);
  const prepareFn = configFunction(config, 'preparer', id, 'prepare', configPath);

  const grade = await readCompetitionPython(join(dir, 'grade.py'), 'grade.py');
  const prepare = await readCompetitionPython(join(dir, 'prepare.py'), 'prepare.py');
  if (!topLevelDefinitions(grade.code).has(gradeFn)) {
    throw new ImportError(
      `${join(dir, 'grade.py')} defines no ${gradeFn}(), which config.yaml names as the grader: fix grader.grade_fn`,
    );
  }
  if (!topLevelDefinitions(prepare.code).has(prepareFn)) {
    throw new ImportError(
      `${join(dir, 'prepare.py')} defines no ${prepareFn}(), which config.yaml names as the preparer: fix preparer`,
    );
  }

  const leaderboard = await readLeaderboard(dir, warnings);
  const metricName = configField(config, 'grader.name') ?? 'custom';
  const known = metricFacts(metricName).known;
  let higherIsBetter = higherIsBetterFromLeaderboard(leaderboard.map((e) => Number(e.score)));
  if (higherIsBetter === undefined) {
    if (!known) {
      throw new ImportError(
        `${join(dir, 'leaderboard.csv')} has too few distinct scores to tell whether higher is better, ` +
          `and metric ${metricName} is not one Anvil knows: add leaderboard rows`,
      );
    }
    higherIsBetter = METRICS[known]!.higherIsBetter;
    warnings.push(
      `leaderboard.csv cannot tell the metric's direction; ${metricName} is taken as ` +
        `${higherIsBetter ? 'higher' : 'lower'}-is-better`,
    );
  }

  const converted: ConvertedCompetition = {
    kind: 'mle-bench',
    competitionId: id,
    title: configField(config, 'name') ?? titleFromId(id),
    description: await readSourceFile(join(dir, 'description.md'), 'MLE-bench description.md'),
    metric: { name: metricName, higherIsBetter },
    prepareCode: await embedPython({
      docstring: `Anvil prepare.py for the MLE-bench competition ${id}, converted by \`anvil import\`.

prepare(raw, public, private) runs the competition's own preparer (section 2) on a scratch view of
raw/, then moves its answers, private/${answers}, to private/answers.csv.`,
      source: prepare,
      origin: `prepare.py of mlebench/competitions/${id}`,
      adapter: `
_anvil_source_prepare = ${prepareFn}


def prepare(raw, public, private):
    _anvil_shim.run_prepare(
        _anvil_source_prepare, raw, public, private,
        answers=${JSON.stringify(answers)}, sample_submission=${JSON.stringify(sample)},
    )`,
    }),
    metricCode: await embedPython({
      docstring: `Anvil metric.py for the MLE-bench competition ${id} (${metricName}), converted by \`anvil import\`.

grade(submission, answers) calls the competition's grader (section 2). Its InvalidSubmissionError, and
the errors a malformed submission makes it raise, become InvalidSubmission (MLE-bench gives such a
submission no score); the score is rounded to 5 decimals as MLE-bench reports it.`,
      source: grade,
      origin: `grade.py of mlebench/competitions/${id}`,
      adapter: `
_anvil_source_grade = ${gradeFn}


class InvalidSubmission(Exception):
    """The submission cannot be scored; the message says why."""


def grade(submission, answers):
    try:
        score = _anvil_source_grade(submission, answers)
    except _anvil_shim.InvalidSubmissionError as error:
        raise InvalidSubmission(str(error)) from error
    except _anvil_shim.SUBMISSION_ERRORS as error:
        # MLE-bench's Grader gives such a submission no score either
        why = f"the grader could not score this submission: {type(error).__name__}: {error}"
        raise InvalidSubmission(why) from error
    return round(float(score), 5)`,
    }),
    leaderboard,
    warnings,
  };
  return writeImportedPackage(dir, converted, opts);
}
