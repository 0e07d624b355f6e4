import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { TASK_TYPES, type TaskType } from '../../domain/task';
import {
  IMPORT_EXIT_CODES,
  ImportError,
  IMPORTERS,
  importOutcome,
  type ImportOutcome,
  type ImportResult,
  type SourceKind,
} from '../../package/import';
import type { verifyPackage } from '../../workflows';
import { withTemporal } from '../embedded';
import { inputError, usageError } from '../failure-report';
import { resultWithProgress } from '../workflow-result';

export const help = `anvil import mle-bench|mle-dojo <competition-dir> [--raw DIR] [--id ID] [--target COL]
             [--id-column COL] [--task-type TYPE] [--catalog DIR] [--json]
  Turns a competition folder in MLE-bench's layout (config.yaml, prepare.py, grade.py,
  description.md, leaderboard.csv) or MLE-Dojo's (utils/prepare.py, utils/metric.py, info/) into an
  Anvil task, verifies it and publishes it to the catalog when its data and metric checks pass.
  --raw: the competition's raw data (default <competition-dir>/raw). The last line is the status:
    published (exit 0)  in the catalog; its warnings say what the importer guessed and which checks
                        failed without blocking it (the placeholder baseline's execution checks)
    rejected (exit 1)   a data or metric check failed (each is listed); not published
  Exit 2: unusable input (not a competition folder of that layout, missing files or raw data, a
  bad option); the message says what is missing. Exit 3: infrastructure (Temporal or Docker down).
  --json prints {taskId, status, publishedTo?, failed: [{name, detail}], warnings, report}.`;

function print(outcome: ImportOutcome, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(outcome));
    return;
  }
  for (const w of outcome.warnings) console.error(`warning: ${w}`);
  if (outcome.status === 'published') {
    const play = `play it with \`anvil env run ${outcome.taskId} --policy heuristic\``;
    console.log(
      `published ${outcome.taskId} to ${outcome.publishedTo} with ${outcome.warnings.length} warning(s); ${play}`,
    );
  } else {
    for (const c of outcome.failed) console.log(`✘ ${c.name.padEnd(28)} ${c.detail}`);
    console.log(
      `rejected ${outcome.taskId}: not published, its data or metric checks above failed (report: ${outcome.report})`,
    );
  }
}

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
  const importer = layout && Object.hasOwn(IMPORTERS, layout) ? IMPORTERS[layout as SourceKind] : undefined;
  if (!importer || !dir || positionals.length > 2)
    throw usageError(help, 'give a layout (mle-bench or mle-dojo) and a folder');
  const taskType = values['task-type'] as TaskType | undefined;
  if (taskType && !TASK_TYPES.includes(taskType)) {
    throw usageError(help, `--task-type must be one of ${TASK_TYPES.join(', ')} (got ${taskType})`);
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
    throw inputError(err.message, `give the competition's folder in the ${layout} layout, with its raw data`);
  }
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  return withTemporal(config, async ({ temporal }) => {
    const handle = await temporal.client.workflow.start<typeof verifyPackage>('verifyPackage', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `import-${imported.taskId}-${Date.now()}`,
      args: [
        {
          sourceDir: imported.packageDir,
          publish: { catalogDir, when: 'assertions-pass' },
          ladder: config.forge.ladder,
        },
      ],
    });
    const report = await resultWithProgress(handle, values.json);
    const outcome = importOutcome(imported, report);
    print(outcome, values.json);
    return IMPORT_EXIT_CODES[outcome.status];
  });
}
