import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { SEARCH } from '../../domain/search-attributes';
import type { sandboxSmoke } from '../../workflows';
import { withTemporal } from '../embedded';
import { resultWithProgress } from '../workflow-result';

export const help = `anvil smoke [--dataset penguins] [--json]
  Runs the sandboxSmoke workflow: trains a scikit-learn model on a real dataset inside the
  sandbox and prints its score and the workflow's Web UI link. Exit 0 ok, 1 failed, 3 infrastructure.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dataset: { type: 'string', default: 'penguins' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  return withTemporal(config, async ({ temporal, workflowUrl }) => {
    const workflowId = `smoke-${values.dataset}-${Date.now()}`;
    const handle = await temporal.client.workflow.start<typeof sandboxSmoke>('sandboxSmoke', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId,
      args: [{ dataset: values.dataset }],
      typedSearchAttributes: [
        { key: SEARCH.dataset, value: values.dataset! },
        { key: SEARCH.stage, value: 'smoke' },
      ],
    });
    const link = workflowUrl(workflowId);
    if (!values.json) console.error(`sandboxSmoke ${workflowId} started${link ? ` — ${link}` : ''}`);
    const r = await resultWithProgress(handle, values.json!, link);
    if (values.json) {
      console.log(JSON.stringify({ workflowId, ...r, uiUrl: link }));
    } else {
      console.log(
        `${r.dataset}: ${r.metric} = ${r.score.toFixed(4)} (5-fold CV on ${r.rows} rows, ${r.runSeconds.toFixed(1)} s in the sandbox)`,
      );
      if (link) console.log(`Temporal UI: ${link}`);
    }
    return 0;
  });
}
