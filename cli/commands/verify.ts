import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { checkEndpoint } from '../../agents/openai/preflight';
import { PROVIDERS, type ProviderName } from '../../agents/providers';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import type { verifyPackage } from '../../workflows';
import { withTemporal } from '../embedded';
import { showProgress } from '../progress';

export const help = `anvil verify <task-dir> [--provider heuristic|openai] [--json]
  Runs the full verification (assertions, review, execution) on any task package folder, on a
  copy. Prints every check; --json prints {status, checks: [{name, passed, detail}]}.
  Exit 0 verified, 1 rejected, 2 unusable input.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false }, provider: { type: 'string', default: 'heuristic' } } });
  const [dir] = positionals;
  const sourceDir = dir ? resolve(dir) : '';
  if (!dir || positionals.length > 1 || !existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) {
    console.error(dir ? `${sourceDir} is not a folder: pass a task package folder (the one holding task.json)` : `usage: ${help.split('\n')[0]}`);
    return 2;
  }
  if (!PROVIDERS.includes(values.provider as ProviderName)) {
    console.error(`--provider must be one of ${PROVIDERS.join(', ')} (got ${values.provider})`);
    return 2;
  }
  if (values.provider === 'openai') await checkEndpoint(config.llm);
  return withTemporal(config, async (temporal) => {
    const handle = await temporal.client.workflow.start<typeof verifyPackage>('verifyPackage', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `verify-${sourceDir.split('/').at(-1)}-${Date.now()}`,
      args: [{ sourceDir, provider: values.provider as ProviderName }],
    });
    const done = handle.result();
    if (!values.json) await showProgress(handle, done);
    let report;
    try {
      report = await done;
    } catch (err) {
      const cause = (err as WorkflowFailedError).cause?.cause as Error | undefined;
      console.error(`anvil verify: ${cause?.message ?? (err as Error).message}`);
      return 2;
    }
    if (values.json) {
      console.log(JSON.stringify({ status: report.status, checks: report.checks.map(({ name, passed, detail }) => ({ name, passed, detail })), scores: report.scores, packageDir: report.packageDir }));
    } else {
      for (const c of report.checks) console.log(`${c.passed ? '✔' : '✘'} ${c.name.padEnd(28)} ${c.detail}`);
      console.log(`\n${report.status}: ${report.checks.filter((c) => c.passed).length}/${report.checks.length} checks passed (report: ${report.packageDir}/verification.json)`);
    }
    return report.status === 'verified' ? 0 : 1;
  });
}
