import { constants, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { testSplitOf } from '../domain/task';
import { packagePaths } from '../package/layout';
import { readManifestFields } from '../package/manifest';
import type { Sandbox } from '../sandbox/sandbox';

export interface GradeResult {
  valid: boolean;
  /** the whole test set's score */
  score?: number;
  /** the score on the public test rows (what a session's steps show), and on the private ones (its final reward) */
  public?: number;
  private?: number;
  error?: string;
}

const GRADE_HARNESS = join(__dirname, '..', 'sandbox', 'harness', 'grade.py');
const GRADING_LIMITS = { cpus: 1, memoryMb: 2048, pids: 64, timeoutS: 300, outputBytes: 64 * 1024, tmpMb: 64 };

/** Submissions larger than this are refused before grading. */
const MAX_SUBMISSION_BYTES = 1024 * 1024 * 1024;

/**
 * Copies a submission that sandboxed code wrote: never through a symlink (it could point at the
 * answers on the host), only a regular file of sane size. true, or why not.
 */
async function copyRegularFile(from: string, to: string): Promise<true | string> {
  let handle;
  try {
    handle = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `no submission file at ${from}`
      : code === 'ELOOP'
        ? 'submission.csv is a symbolic link: write a regular file'
        : `cannot read ${from}: ${code}`;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return 'submission.csv is not a regular file';
    if (info.size > MAX_SUBMISSION_BYTES)
      return `submission.csv is ${info.size} bytes, over the ${MAX_SUBMISSION_BYTES} byte limit`;
    await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(to));
    return true;
  } finally {
    await handle.close();
  }
}

/** A grading folder: the harness's own layout (metric.py, answers.csv, split.json side by side). */
async function gradingDir(packageDir: string, scratchDir: string): Promise<string> {
  await mkdir(scratchDir, { recursive: true });
  const dir = await mkdtemp(join(scratchDir, 'grade-'));
  const files = packagePaths(packageDir);
  await copyFile(files.metric, join(dir, 'metric.py'));
  await copyFile(files.answers, join(dir, 'answers.csv'));
  await chmod(join(dir, 'answers.csv'), 0o644); // 0600 in the catalog; the grading container's user reads it
  await chmod(join(dir, 'metric.py'), 0o644);
  const fields = await readManifestFields(packageDir);
  const idColumn = typeof fields?.idColumn === 'string' ? fields.idColumn : undefined;
  await writeFile(join(dir, 'split.json'), JSON.stringify({ ...testSplitOf(fields), idColumn }));
  await chmod(dir, 0o755);
  return dir;
}

/** Runs the grading harness on a prepared folder: its one JSON line, or why there is none. */
async function runGrader(
  sandbox: Sandbox,
  dir: string,
  { runKey, signal, timeoutS }: { runKey: string; signal?: AbortSignal; timeoutS?: number },
): Promise<{ result: unknown } | { error: string }> {
  const limits = { ...GRADING_LIMITS, timeoutS: timeoutS ?? GRADING_LIMITS.timeoutS };
  const run = await sandbox.run(
    { code: await readFile(GRADE_HARNESS, 'utf8'), dataDir: dir, limits },
    { runKey, signal },
  );
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.exitCode === 0) {
    try {
      return { result: JSON.parse(line) };
    } catch {
      // reported below
    }
  }
  return {
    error: `metric.py failed while grading (${run.timedOut ? 'timed out' : run.oomKilled ? 'out of memory' : `exit ${run.exitCode}`}): ${run.stderr.slice(-1500)}`,
  };
}

/**
 * Grades a submission file in a container of its own: the only one that sees the answers, and
 * it sees nothing of the submitter's code.
 */
export async function gradeInSandbox(
  sandbox: Sandbox,
  {
    packageDir,
    submissionFile,
    scratchDir,
    runKey,
    signal,
  }: { packageDir: string; submissionFile: string; scratchDir: string; runKey: string; signal?: AbortSignal },
): Promise<GradeResult> {
  const dir = await gradingDir(packageDir, scratchDir);
  try {
    const copied = await copyRegularFile(submissionFile, join(dir, 'submission.csv'));
    if (copied !== true) return { valid: false, error: copied };
    const graded = await runGrader(sandbox, dir, { runKey, signal });
    return 'result' in graded ? (graded.result as GradeResult) : { valid: false, error: graded.error };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Grades several submissions (by name) in one grading container: the reference ladder's, whose
 * rungs would otherwise each start one. A submission the metric refuses is that one's result.
 */
export async function gradeBatchInSandbox(
  sandbox: Sandbox,
  {
    packageDir,
    submissions,
    scratchDir,
    runKey,
    signal,
  }: {
    packageDir: string;
    submissions: Record<string, string>;
    scratchDir: string;
    runKey: string;
    signal?: AbortSignal;
  },
): Promise<Record<string, GradeResult>> {
  const dir = await gradingDir(packageDir, scratchDir);
  try {
    const results: Record<string, GradeResult> = {};
    await mkdir(join(dir, 'submissions'), { mode: 0o755 });
    for (const [name, file] of Object.entries(submissions)) {
      const copied = await copyRegularFile(file, join(dir, 'submissions', `${name}.csv`));
      if (copied !== true) results[name] = { valid: false, error: copied };
    }
    await chmod(join(dir, 'submissions'), 0o755);
    const toGrade = Object.keys(submissions).filter((name) => !results[name]);
    if (toGrade.length === 0) return results;
    const timeoutS = GRADING_LIMITS.timeoutS + 30 * toGrade.length;
    const graded = await runGrader(sandbox, dir, { runKey, signal, timeoutS });
    const batch = 'result' in graded ? (graded.result as Record<string, GradeResult>) : {};
    for (const name of toGrade)
      results[name] =
        batch[name] ??
        ('error' in graded ? { valid: false, error: graded.error } : { valid: false, error: 'not graded' });
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
