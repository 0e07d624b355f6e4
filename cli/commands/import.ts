import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { TASK_TYPES, type TaskType } from '../../domain/task';
import type { verifyPackage } from '../../workflows';
import { withTemporal } from '../embedded';
import { ImportError, type ImportOptions, type ImportResult } from '../import/common';
import { importMleBench } from '../import/mle-bench';
import { importMleDojo } from '../import/mle-dojo';
import { resultWithProgress } from '../workflow-result';

export const help = `anvil import mle-bench|mle-dojo <competition-dir> [--raw DIR] [--id ID] [--target COL] [--id-column COL]
             [--task-type TYPE] [--catalog DIR] [--json]
  Turns a competition folder in MLE-bench's layout (config.yaml, prepare.py, grade.py,
  description.md, leaderboard.csv) or MLE-Dojo's (utils/prepare.py, utils/metric.py, info/) into an
  Anvil task, runs the verifier on it and publishes it to the catalog when its data and metric
  checks pass (its placeholder baseline may fail the execution checks). --raw: the competition's
  raw data (default <competition-dir>/raw). Exit 0 published, 1 not publishable, 2 bad input.`;

const IMPORTERS: Record<string, (dir: string, opts: ImportOptions) => Promise<ImportResult>> = { 'mle-bench': importMleBench, 'mle-dojo': importMleDojo };

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      raw: { type: 'string' },
      id: { type: 'string' },
      target: { type: 'string' },
      'id-column': { type: 'string' },
      'task-type': { type: 'string' },
      catalog: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [layout, dir] = positionals;
  const importer = layout ? IMPORTERS[layout] : undefined;
  if (!importer || !dir || positionals.length > 2) {
    console.error(`usage: ${help.split('\n')[0]}`);
    return 2;
  }
  const taskType = values['task-type'] as TaskType | undefined;
  if (taskType && !TASK_TYPES.includes(taskType)) {
    console.error(`--task-type must be one of ${TASK_TYPES.join(', ')} (got ${taskType})`);
    return 2;
  }
  let imported: ImportResult;
  mkdirSync(config.paths.home, { recursive: true });
  try {
    imported = await importer(resolve(dir), {
      outDir: mkdtempSync(join(config.paths.home, 'imports-')),
      ...(values.raw ? { rawDir: resolve(values.raw) } : {}),
      ...(values.id ? { taskId: values.id } : {}),
      ...(values.target ? { target: values.target } : {}),
      ...(values['id-column'] ? { idColumn: values['id-column'] } : {}),
      ...(taskType ? { taskType } : {}),
    });
  } catch (err) {
    if (!(err instanceof ImportError)) throw err;
    console.error(`anvil import: ${err.message}`);
    return 2;
  }
  if (!values.json) for (const w of imported.warnings) console.error(`warning: ${w}`);
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  return withTemporal(config, async ({ temporal }) => {
    const handle = await temporal.client.workflow.start<typeof verifyPackage>('verifyPackage', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `import-${imported.taskId}-${Date.now()}`,
      args: [{ sourceDir: imported.packageDir, publish: { catalogDir, when: 'assertions-pass' } }],
    });
    const report = await resultWithProgress(handle, values.json);
    const failed = report.checks.filter((c) => !c.passed);
    if (values.json) {
      console.log(JSON.stringify({ taskId: imported.taskId, status: report.status, publishedTo: report.publishedTo, failed: failed.map((c) => ({ name: c.name, detail: c.detail })), warnings: imported.warnings }));
    } else {
      for (const c of failed) console.log(`✘ ${c.name.padEnd(28)} ${c.detail}`);
      console.log(report.publishedTo ? `\npublished ${imported.taskId} to ${report.publishedTo} (${report.status}); play it with \`anvil env run ${imported.taskId} --policy heuristic\`` : `\nnot published: the data or metric checks above failed (report: ${report.packageDir}/verification.json)`);
    }
    return report.publishedTo ? 0 : 1;
  });
}
