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
  await mkdir(scratchDir, { recursive: true });
  const dir = await mkdtemp(join(scratchDir, 'grade-'));
  try {
    // the grading harness's own layout: metric.py, answers.csv and submission.csv side by side
    const files = packagePaths(packageDir);
    await copyFile(files.metric, join(dir, 'metric.py'));
    await copyFile(files.answers, join(dir, 'answers.csv'));
    await chmod(join(dir, 'answers.csv'), 0o644); // 0600 in the catalog; the grading container's user reads it
    await chmod(join(dir, 'metric.py'), 0o644);
    const fields = await readManifestFields(packageDir);
    const idColumn = typeof fields?.idColumn === 'string' ? fields.idColumn : undefined;
    await writeFile(join(dir, 'split.json'), JSON.stringify({ ...testSplitOf(fields), idColumn }));
    const copied = await copyRegularFile(submissionFile, join(dir, 'submission.csv'));
    if (copied !== true) return { valid: false, error: copied };
    await chmod(dir, 0o755);
    const run = await sandbox.run(
      { code: await readFile(GRADE_HARNESS, 'utf8'), dataDir: dir, limits: GRADING_LIMITS },
      { runKey, signal },
    );
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    if (run.exitCode === 0) {
      try {
        return JSON.parse(line) as GradeResult;
      } catch {
        // reported below
      }
    }
    return {
      valid: false,
      error: `metric.py failed while grading (${run.timedOut ? 'timed out' : run.oomKilled ? 'out of memory' : `exit ${run.exitCode}`}): ${run.stderr.slice(-1500)}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
