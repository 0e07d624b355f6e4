import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkEndpoint } from '../../agents/openai/preflight';
import { providerOption } from '../provider-option';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { EXAMPLE_FORGE_DATASETS, exampleDatasetPath } from '../../examples/forge-datasets';
import type { forgeDataset } from '../../workflows';
import { withTemporal } from '../embedded';
import { usageError } from '../failure-report';
import { showForgeProgress } from '../forge-progress';
import { workflowResult } from '../workflow-result';

export const help = `anvil forge <dataset> [--max-tasks N] [--catalog DIR] [--provider heuristic|openai] [--repair-rounds K] [--name NAME] [--json]
  Forges verified competition-style tasks from a dataset (a CSV/TSV/JSON/JSONL/Parquet file or a
  folder of them, a folder of labelled images: a labels table beside them or one sub-folder per
  class, or example:<name> for ${Object.keys(EXAMPLE_FORGE_DATASETS).join(', ')}).
  Prints each task's id, verdict and reference scores; --json prints one JSON object.
  Exit 0 some task verified, 1 none verified, 2 unusable dataset or flags, 3 infrastructure.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'max-tasks': { type: 'string' },
      catalog: { type: 'string' },
      provider: { type: 'string', default: 'heuristic' },
      'repair-rounds': { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [dataset] = positionals;
  if (!dataset || positionals.length > 1) throw usageError(help, 'give one dataset');
  const provider = providerOption(values.provider);
  const int = (flag: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) throw usageError(help, `--${flag} must be a whole number (got ${value})`);
    return Number(value);
  };
  // Before any work: an unusable endpoint fails now, naming the setting, not mid-forge.
  if (provider === 'openai') await checkEndpoint(config.llm);
  const maxTasks = int('max-tasks', values['max-tasks'], config.forge.maxTasks);
  const repairRounds = int('repair-rounds', values['repair-rounds'], config.forge.repairRounds);
  const example = dataset.startsWith('example:') ? dataset.slice('example:'.length) : undefined;
  const path = example ? await exampleDatasetPath(example, resolve(config.paths.home, 'examples')) : resolve(dataset);
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);

  return withTemporal(config, async ({ temporal, workflowUrl }) => {
    const workflowId = `forge-${(values.name ?? example ?? path.split('/').at(-1)!).replace(/[^A-Za-z0-9_.-]+/g, '-')}-${Date.now()}`;
    const handle = await temporal.client.workflow.start<typeof forgeDataset>('forgeDataset', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId,
      args: [
        {
          dataset: path,
          catalogDir,
          name: values.name ?? example,
          maxTasks,
          provider,
          repairRounds,
          concurrency: config.forge.concurrency,
          designerToolSteps: config.llm.designerToolSteps,
          ladder: config.forge.ladder,
        },
      ],
    });
    const link = workflowUrl(workflowId);
    if (!values.json) console.error(`forgeDataset ${workflowId} started${link ? ` — ${link}` : ''}`);
    const done = workflowResult(handle, link);
    if (!values.json) await showForgeProgress(temporal.client, handle, done);
    const result = await done;
    if (values.json) {
      console.log(
        JSON.stringify({
          workflowId,
          tasks: result.tasks.map(({ id, status, path: p, metric, scores, failedChecks, usage }) => ({
            id,
            status,
            path: p,
            metric,
            scores,
            failedChecks,
            usage,
          })),
          usage: result.usage,
        }),
      );
    } else {
      for (const t of result.tasks) {
        const scores =
          t.scores.baseline !== undefined
            ? `baseline ${t.scores.baseline.toPrecision(4)} vs trivial ${t.scores.trivial?.toPrecision(4)} (${t.metric.name}, ${t.metric.higherIsBetter ? 'higher' : 'lower'} is better)`
            : t.metric.name;
        console.log(
          `${t.status === 'verified' ? '✔' : '✘'} ${t.id}  ${t.status}  ${scores}${t.failedChecks.length ? `  failed: ${t.failedChecks.join(', ')}` : ''}\n    ${t.path}`,
        );
      }
      const u = result.usage;
      if (u.promptTokens + u.completionTokens > 0)
        console.log(
          `LLM usage: ${u.promptTokens} prompt + ${u.completionTokens} completion tokens, about $${u.costUsd.toFixed(4)}`,
        );
      if (link) console.log(`Temporal UI: ${link}`);
    }
    return result.tasks.some((t) => t.status === 'verified') ? 0 : 1;
  });
}
