import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { resolveTask } from '../../package/catalog';
import { LAYOUT } from '../../package/layout';
import { isPrepared } from '../../package/prepared-data';
import type { gradeTask } from '../../workflows';
import { withTemporal } from '../embedded';

export const help = `anvil grade <task-id|task-dir> <submission.csv> [--catalog DIR] [--json]
  Grades a submission against a task's private answers in a grading sandbox: {valid, score, error?}.
  Exit 0 valid, 1 invalid, 2 unusable input.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false }, catalog: { type: 'string' } } });
  const [task, submission] = positionals;
  if (!task || !submission || positionals.length > 2) {
    console.error(`usage: ${help.split('\n')[0]}`);
    return 2;
  }
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  const packageDir = resolveTask(task, catalogDir);
  if (!packageDir) {
    console.error(`no task "${task}": not a package folder, nor an id in ${catalogDir} (see \`anvil tasks list\`)`);
    return 2;
  }
  if (!isPrepared(packageDir)) {
    const how = `run \`anvil verify ${packageDir}\` (which prepares it) or grade a published task`;
    console.error(`${packageDir} has no ${LAYOUT.answers}: ${how}`);
    return 2;
  }
  const submissionFile = resolve(submission);
  if (!existsSync(submissionFile)) {
    console.error(`no submission file at ${submissionFile}`);
    return 2;
  }
  return withTemporal(config, async (temporal) => {
    const result = await temporal.client.workflow.execute<typeof gradeTask>('gradeTask', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `grade-${basename(packageDir)}-${Date.now()}`,
      args: [{ packageDir, submissionFile }],
    });
    console.log(values.json ? JSON.stringify(result) : result.valid ? `valid: score ${result.score}` : `invalid: ${result.error}`);
    return result.valid ? 0 : 1;
  });
}
