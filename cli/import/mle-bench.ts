import { basename, join, resolve } from 'node:path';
import { METRICS } from '../../domain/metrics';
import {
  type ConvertedCompetition,
  embedPython,
  higherIsBetterFromLeaderboard,
  ImportError,
  type ImportOptions,
  type ImportResult,
  type LeaderboardEntry,
  metricFacts,
  parseCsvRecords,
  parseSimpleYaml,
  readCompetitionPython,
  readSourceFile,
  titleFromId,
  topLevelDefinitions,
  type YamlMap,
  writeImportedPackage,
} from './common';

export { ImportError, type ImportOptions, type ImportResult } from './common';

/*
 * An MLE-bench competition is a folder mlebench/competitions/<id>/ of github.com/openai/mle-bench:
 *   config.yaml      id, name, grader {name, grade_fn "module:function"}, preparer "module:function",
 *                    dataset {answers, sample_submission} as paths <id>/prepared/{private,public}/<file>
 *   prepare.py       prepare(raw, public, private), called with keywords; writes the answers to private/
 *   grade.py         grade(submission, answers) -> float; raises mlebench.grade_helpers.InvalidSubmissionError
 *   description.md   the Kaggle description
 *   leaderboard.csv  Kaggle's final leaderboard, best first: scoreNullable,teamId,hasTeamName,submissionDate,score,hasScore
 *   checksums.yaml, kernels.txt, description_obfuscated.md (not used here)
 * The data is not in the folder: MLE-bench downloads it from Kaggle into <data>/<id>/raw.
 */

/** The text of config.yaml at `path` (a dotted key), or undefined. */
function field(config: YamlMap, path: string): string | undefined {
  let value: YamlMap[string] | undefined = config;
  for (const key of path.split('.')) value = value && typeof value === 'object' ? value[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The function named by `module:function` in config.yaml, which must live in this competition's `file`. */
function functionOf(config: YamlMap, key: string, id: string, file: string, where: string): string {
  const spec = field(config, key);
  if (!spec) return file; // MLE-bench's own convention: grade.py:grade, prepare.py:prepare
  const [module, fn] = spec.split(':') as [string, string | undefined];
  if (!fn || module !== `mlebench.competitions.${id}.${file}`) {
    throw new ImportError(`${where}: ${key} is "${spec}", not a function of this competition's ${file}.py: import the competition that defines it, or copy that code into ${file}.py`);
  }
  return fn;
}

/** A dataset path of config.yaml (`<id>/prepared/<side>/<file>`) relative to the prepared `side` folder. */
function preparedFile(config: YamlMap, key: string, id: string, side: 'public' | 'private', where: string): string | undefined {
  const path = field(config, key);
  if (path === undefined) return undefined;
  const prefix = `${id}/prepared/${side}/`;
  if (!path.startsWith(prefix)) throw new ImportError(`${where}: ${key} is "${path}", not a file under ${prefix}: fix config.yaml`);
  return path.slice(prefix.length);
}

async function readLeaderboard(dir: string, warnings: string[]): Promise<LeaderboardEntry[]> {
  const path = join(dir, 'leaderboard.csv');
  const rows = parseCsvRecords(await readSourceFile(path, 'MLE-bench leaderboard.csv'), path);
  if (rows.length > 0 && !('score' in rows[0]!)) throw new ImportError(`${path} has no score column (columns: ${Object.keys(rows[0]!).join(', ')}): MLE-bench leaderboards have one`);
  const entries: LeaderboardEntry[] = [];
  const skipped: number[] = [];
  rows.forEach((row, i) => {
    const score = row.score ?? '';
    if (score === '' || row.hasScore === 'False' || !Number.isFinite(Number(score))) skipped.push(i + 1);
    else entries.push({ entry: row.teamName || row.teamId || `row-${i + 1}`, score, board: 'public' });
  });
  if (skipped.length) warnings.push(`${path}: skipped ${skipped.length} row(s) without a score (row ${skipped.slice(0, 5).join(', ')})`);
  return entries;
}

/**
 * Converts an MLE-bench competition folder (mlebench/competitions/<id>) and its raw data into an
 * Anvil task package at opts.outDir/<taskId>.
 */
export async function importMleBench(competitionDir: string, opts: ImportOptions): Promise<ImportResult> {
  const dir = resolve(competitionDir);
  const configPath = join(dir, 'config.yaml');
  const config = parseSimpleYaml(await readSourceFile(configPath, 'MLE-bench config.yaml'), configPath);
  const id = field(config, 'id') ?? basename(dir);
  const warnings: string[] = [];

  const answers = preparedFile(config, 'dataset.answers', id, 'private', configPath);
  if (!answers) throw new ImportError(`${configPath} has no dataset.answers: MLE-bench configs name the answers file the grader reads; add it`);
  if (!answers.endsWith('.csv')) throw new ImportError(`${configPath}: the answers, private/${answers}, are not a CSV file, and Anvil grades against private/answers.csv: this competition cannot be imported as is`);
  const sample = preparedFile(config, 'dataset.sample_submission', id, 'public', configPath) ?? 'sample_submission.csv';
  const gradeFn = functionOf(config, 'grader.grade_fn', id, 'grade', configPath);
  const prepareFn = functionOf(config, 'preparer', id, 'prepare', configPath);

  const grade = await readCompetitionPython(join(dir, 'grade.py'), 'grade.py');
  const prepare = await readCompetitionPython(join(dir, 'prepare.py'), 'prepare.py');
  if (!topLevelDefinitions(grade.code).has(gradeFn)) throw new ImportError(`${join(dir, 'grade.py')} defines no ${gradeFn}(), which config.yaml names as the grader: fix grader.grade_fn`);
  if (!topLevelDefinitions(prepare.code).has(prepareFn)) throw new ImportError(`${join(dir, 'prepare.py')} defines no ${prepareFn}(), which config.yaml names as the preparer: fix preparer`);

  const leaderboard = await readLeaderboard(dir, warnings);
  const metricName = field(config, 'grader.name') ?? 'custom';
  const known = metricFacts(metricName).known;
  let higherIsBetter = higherIsBetterFromLeaderboard(leaderboard.map((e) => Number(e.score)));
  if (higherIsBetter === undefined) {
    if (!known) throw new ImportError(`${join(dir, 'leaderboard.csv')} has too few distinct scores to tell whether higher is better, and metric ${metricName} is not one Anvil knows: add leaderboard rows`);
    higherIsBetter = METRICS[known]!.higherIsBetter;
    warnings.push(`leaderboard.csv cannot tell the metric's direction; ${metricName} is taken as ${higherIsBetter ? 'higher' : 'lower'}-is-better`);
  }

  const converted: ConvertedCompetition = {
    kind: 'mle-bench',
    competitionId: id,
    title: field(config, 'name') ?? titleFromId(id),
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
    _anvil_shim.run_prepare(_anvil_source_prepare, raw, public, private, answers=${JSON.stringify(answers)}, sample_submission=${JSON.stringify(sample)})`,
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
        raise InvalidSubmission(f"the grader could not score this submission: {type(error).__name__}: {error}") from error
    return round(float(score), 5)`,
    }),
    leaderboard,
    warnings,
  };
  return writeImportedPackage(dir, converted, opts);
}
