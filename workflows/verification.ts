import { patched } from '@temporalio/workflow';
import { ladderCheck } from '../domain/ladder';
import type { ProviderName } from '../domain/providers';
import { NO_USAGE, type Usage } from '../domain/usage';
import { CHECKS, type CheckResult, type VerificationReport, verdictOf } from '../domain/verification';
import { roleActivities, verificationActivities } from './activity-proxies';
import { runLadder } from './ladder';

const notRun = (names: readonly string[], because: string): CheckResult[] =>
  names.map((name) => ({ name, passed: false, detail: `not run: ${because} failed` }));

/**
 * Verifies a package folder: assertions in the sandbox, then — once prepare and the manifest hold —
 * the Reviewer and the execution stage side by side; once execution passes, the reference ladder.
 */
export async function verifyPackageDir(
  packageDir: string,
  { provider, profileFile, ladder }: { provider: ProviderName; profileFile?: string; ladder?: boolean },
): Promise<{ report: VerificationReport; usage: Usage }> {
  const assertions = await verificationActivities().runAssertions({ packageDir });
  const blocker = ['manifest.valid', 'prepare.runs'].find((name) => !assertions.find((c) => c.name === name)?.passed);
  if (blocker) {
    const checks = [...assertions, ...notRun(CHECKS.review, blocker), ...notRun(CHECKS.execution, blocker)];
    return { report: { status: verdictOf(checks), checks }, usage: NO_USAGE };
  }
  // A task that needs a GPU runs its baseline and sample submission on the GPU queue.
  const gpu =
    (assertions.find((c) => c.name === 'manifest.valid')?.evidence as { gpu?: boolean } | undefined)?.gpu === true;
  const [review, execution] = await Promise.all([
    roleActivities().review({ packageDir, profileFile, provider }),
    verificationActivities(gpu ? 'gpu' : 'cpu').runExecution({ packageDir }),
  ]);
  const checks = [...assertions, ...review.checks, ...execution.checks];
  // Once the task runs as it should, the reference ladder gives its leaderboard a spread of strengths.
  if (ladder && execution.checks.every((c) => c.passed) && patched('reference-ladder')) {
    const ladder = await runLadder(packageDir, execution.scores.trivial);
    checks.push(ladderCheck(ladder));
    return { report: { status: verdictOf(checks), checks, scores: execution.scores, ladder }, usage: review.usage };
  }
  return { report: { status: verdictOf(checks), checks, scores: execution.scores }, usage: review.usage };
}
