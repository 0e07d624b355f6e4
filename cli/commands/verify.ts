import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkEndpoint } from '../../agents/openai/preflight';
import { providerOption } from '../provider-option';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import { failedChecks, rejectionHint } from '../../domain/verification';
import { LAYOUT, packagePaths } from '../../package/layout';
import type { verifyPackage } from '../../workflows';
import { withTemporal } from '../embedded';
import { inputError, usageError } from '../failure-report';
import { resultWithProgress } from '../workflow-result';

export const help = `anvil verify <task-dir> [--provider heuristic|openai] [--json]
  Runs the full verification (assertions, review, execution) on any task package folder, on a
  copy. Prints every check; --json prints {status, checks: [{name, passed, detail}]}.
  Exit 0 verified, 1 rejected (the failed checks and the fix are printed), 2 unusable input,
  3 infrastructure (Temporal or Docker unreachable).`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean', default: false }, provider: { type: 'string', default: 'heuristic' } },
  });
  const [dir] = positionals;
  const sourceDir = dir ? resolve(dir) : '';
  if (!dir || positionals.length > 1) throw usageError(help, 'give one task package folder');
  if (!existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) {
    throw inputError(`${sourceDir} is not a folder`, `pass a task package folder (the one holding ${LAYOUT.manifest})`);
  }
  const provider = providerOption(values.provider);
  if (provider === 'openai') await checkEndpoint(config.llm);
  return withTemporal(config, async ({ temporal, workflowUrl }) => {
    const workflowId = `verify-${sourceDir.split('/').at(-1)}-${Date.now()}`;
    const handle = await temporal.client.workflow.start<typeof verifyPackage>('verifyPackage', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId,
      args: [{ sourceDir, provider, ladder: config.forge.ladder }],
    });
    const link = workflowUrl(workflowId);
    const report = await resultWithProgress(handle, values.json, link);
    const hint = rejectionHint(report.checks);
    if (values.json) {
      const checks = report.checks.map(({ name, passed, detail }) => ({ name, passed, detail }));
      const { status, scores, packageDir } = report;
      console.log(JSON.stringify({ status, checks, scores, packageDir, ...(hint ? { hint } : {}) }));
    } else {
      for (const c of report.checks) console.log(`${c.passed ? '✔' : '✘'} ${c.name.padEnd(28)} ${c.detail}`);
      const passed = report.checks.filter((c) => c.passed).length;
      const file = packagePaths(report.packageDir).verification;
      console.log(`\n${report.status}: ${passed}/${report.checks.length} checks passed (report: ${file})`);
      for (const c of failedChecks(report.checks)) console.log(`  failed: ${c.name}: ${c.detail}`);
      if (hint) console.log(`  fix: ${hint}`);
    }
    return report.status === 'verified' ? 0 : 1;
  });
}
