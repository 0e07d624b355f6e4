import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkEndpoint } from '../../agents/openai/preflight';
import { providerOption } from '../provider-option';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { LAYOUT, packagePaths } from '../../package/layout';
import type { verifyPackage } from '../../workflows';
import { withTemporal } from '../embedded';
import { resultWithProgress } from '../workflow-result';

export const help = `anvil verify <task-dir> [--provider heuristic|openai] [--json]
  Runs the full verification (assertions, review, execution) on any task package folder, on a
  copy. Prints every check; --json prints {status, checks: [{name, passed, detail}]}.
  Exit 0 verified, 1 rejected, 2 unusable input.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false }, provider: { type: 'string', default: 'heuristic' } } });
  const [dir] = positionals;
  const sourceDir = dir ? resolve(dir) : '';
  if (!dir || positionals.length > 1 || !existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) {
    const notFolder = `${sourceDir} is not a folder: pass a task package folder (the one holding ${LAYOUT.manifest})`;
    console.error(dir ? notFolder : `usage: ${help.split('\n')[0]}`);
    return 2;
  }
  const provider = providerOption(values.provider);
  if (!provider) return 2;
  if (provider === 'openai') await checkEndpoint(config.llm);
  return withTemporal(config, async (temporal) => {
    const handle = await temporal.client.workflow.start<typeof verifyPackage>('verifyPackage', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `verify-${sourceDir.split('/').at(-1)}-${Date.now()}`,
      args: [{ sourceDir, provider }],
    });
    const report = await resultWithProgress<typeof verifyPackage>('anvil verify', handle, values.json);
    if (!report) return 2;
    if (values.json) {
      console.log(JSON.stringify({ status: report.status, checks: report.checks.map(({ name, passed, detail }) => ({ name, passed, detail })), scores: report.scores, packageDir: report.packageDir }));
    } else {
      for (const c of report.checks) console.log(`${c.passed ? '✔' : '✘'} ${c.name.padEnd(28)} ${c.detail}`);
      const passed = `${report.checks.filter((c) => c.passed).length}/${report.checks.length} checks passed`;
      console.log(`\n${report.status}: ${passed} (report: ${packagePaths(report.packageDir).verification})`);
    }
    return report.status === 'verified' ? 0 : 1;
  });
}
