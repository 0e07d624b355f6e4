import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from '../sandbox/sandbox';

export interface GradeResult {
  valid: boolean;
  score?: number;
  error?: string;
}

const GRADE_HARNESS = join(__dirname, '..', 'sandbox', 'harness', 'grade.py');
const GRADING_LIMITS = { cpus: 1, memoryMb: 2048, pids: 64, timeoutS: 300, outputBytes: 64 * 1024, tmpMb: 64 };

/**
 * Grades a submission file in a container of its own: the only one that sees the answers, and
 * it sees nothing of the submitter's code.
 */
export async function gradeInSandbox(
  sandbox: Sandbox,
  { packageDir, submissionFile, scratchDir, runKey, signal }: { packageDir: string; submissionFile: string; scratchDir: string; runKey: string; signal?: AbortSignal },
): Promise<GradeResult> {
  await mkdir(scratchDir, { recursive: true });
  const dir = await mkdtemp(join(scratchDir, 'grade-'));
  try {
    await copyFile(join(packageDir, 'metric.py'), join(dir, 'metric.py'));
    await copyFile(join(packageDir, 'private', 'answers.csv'), join(dir, 'answers.csv'));
    try {
      await copyFile(submissionFile, join(dir, 'submission.csv'));
    } catch {
      return { valid: false, error: `no submission file at ${submissionFile}` };
    }
    await chmod(dir, 0o755);
    const run = await sandbox.run({ code: await readFile(GRADE_HARNESS, 'utf8'), dataDir: dir, limits: GRADING_LIMITS }, { runKey, signal });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    if (run.exitCode === 0) {
      try {
        return JSON.parse(line) as GradeResult;
      } catch {
        // reported below
      }
    }
    return { valid: false, error: `metric.py failed while grading (${run.timedOut ? 'timed out' : run.oomKilled ? 'out of memory' : `exit ${run.exitCode}`}): ${run.stderr.slice(-1500)}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
