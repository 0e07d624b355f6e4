import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkEndpoint } from '../../agents/openai/preflight';
import { providerOption } from '../provider-option';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { DEFAULT_SYNTH_ROWS } from '../../domain/synth';
import type { synthesizeTasks } from '../../workflows';
import { withTemporal } from '../embedded';
import { usageError } from '../failure-report';
import { workflowResult } from '../workflow-result';

export const help = `anvil synth <task-id> [--count N] [--rows MIN-MAX] [--catalog DIR] [--provider heuristic|openai] [--json]
  Grows N (default 3) verified micro tasks (MIN-MAX training rows, default ${DEFAULT_SYNTH_ROWS.join('-')}) from a published
  seed task, published as <task-id>-synth-<n>. --json prints {workflowId, tasks: [{id, status, path, …}]}.
  Exit 0 some task verified, 1 none verified, 2 unusable seed or flags, 3 infrastructure.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      count: { type: 'string', default: '3' },
      rows: { type: 'string', default: DEFAULT_SYNTH_ROWS.join('-') },
      catalog: { type: 'string' },
      provider: { type: 'string', default: 'heuristic' },
      json: { type: 'boolean', default: false },
    },
  });
  const [seedTaskId] = positionals;
  if (!seedTaskId || positionals.length > 1) throw usageError(help, 'give one seed task id');
  const provider = providerOption(values.provider);
  if (!/^\d+$/.test(values.count)) throw usageError(help, `--count must be a whole number (got ${values.count})`);
  const range = /^(\d+)-(\d+)$/.exec(values.rows);
  if (!range) throw usageError(help, `--rows must be MIN-MAX, e.g. 50-200 (got ${values.rows})`);
  if (provider === 'openai') await checkEndpoint(config.llm);
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);

  return withTemporal(config, async ({ temporal, workflowUrl }) => {
    const workflowId = `synth-${seedTaskId}-${Date.now()}`;
    const handle = await temporal.client.workflow.start<typeof synthesizeTasks>('synthesizeTasks', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId,
      args: [
        {
          seedTaskId,
          catalogDir,
          count: Number(values.count),
          rows: [Number(range[1]), Number(range[2])],
          provider,
          ladder: config.forge.ladder,
          repairRounds: config.forge.repairRounds,
        },
      ],
    });
    const link = workflowUrl(workflowId);
    if (!values.json) console.error(`synthesizeTasks ${workflowId} started${link ? ` — ${link}` : ''}`);
    const result = await workflowResult(handle, link);
    if (values.json) {
      console.log(
        JSON.stringify({
          workflowId,
          tasks: result.tasks.map(({ id, status, path, rows, scores, thresholds, failedChecks }) => ({
            id,
            status,
            path,
            rows,
            scores,
            thresholds,
            failedChecks,
          })),
          usage: result.usage,
        }),
      );
    } else {
      for (const t of result.tasks) {
        const medals = t.thresholds
          ? `  gold ${t.thresholds.gold.toPrecision(4)} / silver ${t.thresholds.silver.toPrecision(4)} / bronze ${t.thresholds.bronze.toPrecision(4)} / median ${t.thresholds.median.toPrecision(4)}`
          : '';
        console.log(
          `${t.status === 'verified' ? '✔' : '✘'} ${t.id}  ${t.status}  ${t.rows.train}+${t.rows.test} rows${medals}${t.failedChecks.length ? `  failed: ${t.failedChecks.join(', ')}` : ''}\n    ${t.path}`,
        );
      }
      if (link) console.log(`Temporal UI: ${link}`);
    }
    return result.tasks.some((t) => t.status === 'verified') ? 0 : 1;
  });
}
