import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { openCatalog, resolveTaskIn } from '../../package/open-catalog';
import { LAYOUT } from '../../package/layout';
import { isPrepared } from '../../package/prepared-data';
import type { gradeTask } from '../../workflows';
import { FAILURE_KINDS } from '../../domain/failures';
import { withTemporal } from '../embedded';
import { inputError, usageError } from '../failure-report';
import { workflowResult } from '../workflow-result';

export const help = `anvil grade <task-id|task-dir> <submission.csv> [--catalog DIR] [--json]
  Grades a submission against a task's private answers in a grading sandbox: {valid, score, public,
  private, error?} (the whole test set's score, and its public and private rows').
  Exit 0 valid, 1 invalid (with the metric's reason and the fix), 2 unusable input, 3 infrastructure.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean', default: false }, catalog: { type: 'string' } },
  });
  const [task, submission] = positionals;
  if (!task || !submission || positionals.length > 2) throw usageError(help, 'give a task and a submission file');
  const catalog = await openCatalog(config, { dir: values.catalog });
  const packageDir = await resolveTaskIn(catalog, task);
  if (!packageDir) {
    const where = catalog.describe;
    throw inputError(`no task "${task}": not a package folder, nor an id in ${where}`, 'see `anvil tasks list`');
  }
  if (!isPrepared(packageDir)) {
    const hint = `run \`anvil verify ${packageDir}\` (which prepares it) or grade a published task`;
    throw inputError(`${packageDir} has no ${LAYOUT.answers}`, hint);
  }
  const submissionFile = resolve(submission);
  if (!existsSync(submissionFile))
    throw inputError(`no submission file at ${submissionFile}`, 'pass the path of a CSV file');
  return withTemporal(config, async ({ temporal }) => {
    const handle = await temporal.client.workflow.start<typeof gradeTask>('gradeTask', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `grade-${basename(packageDir)}-${Date.now()}`,
      args: [{ packageDir, submissionFile }],
    });
    const result = await workflowResult(handle);
    // An invalid submission is a verdict, not a failure: the metric's reason, and how to fix it.
    const hint = result.valid ? undefined : `${FAILURE_KINDS.InvalidSubmission!.hint} (${packageDir}/public)`;
    if (values.json) console.log(JSON.stringify({ ...result, ...(hint ? { hint } : {}) }));
    else if (!result.valid) console.log(`invalid: ${result.error}\n  fix: ${hint}`);
    else console.log(`valid: score ${result.score} (public rows ${result.public}, private rows ${result.private})`);
    return result.valid ? 0 : 1;
  });
}
