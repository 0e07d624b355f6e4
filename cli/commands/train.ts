import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { AnvilConfig } from '../../config';
import { taskQueueName } from '../../domain/queues';
import type { TrainingHeartbeat, TrainingResult } from '../../domain/training';
import type { trainRun } from '../../workflows';
import { withTemporal } from '../embedded';
import { inputError, usageError } from '../failure-report';
import { confinedPath } from '../../activities/confine';
import { inputRoots } from '../../workers/deps';
import { workflowResult } from '../workflow-result';

export const help = `anvil train <script.py> [--data DIR under paths.home] [--gpu] [--timeout S] [--json]
anvil train --watch <workflow-id> [--json]
  Runs (or follows) a trainRun workflow: the script runs in a sandbox with a workspace that
  survives retries, prints progress as ANVIL_PROGRESS lines (docs/training.md) and resumes from its
  last checkpoint after a lost worker. Cancel from the Temporal UI or \`temporal workflow cancel\`.
  Exit 0 finished, 1 the script failed, 2 unusable script or flags, 3 infrastructure.`;

/** The running training attempt's heartbeat details, decoded; undefined before the first heartbeat. */
export async function trainingDetails(client: Client, handle: WorkflowHandle): Promise<TrainingHeartbeat | undefined> {
  const { raw } = await handle.describe();
  const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'runTraining');
  const payloads = pending?.heartbeatDetails?.payloads;
  if (!payloads?.length) return undefined;
  return decodeFromPayloadsAtIndex<TrainingHeartbeat>(client.options.loadedDataConverter, 0, payloads);
}

/** One line of what a training run is doing, or did. */
export function describeProgress(p: Partial<TrainingHeartbeat & TrainingResult>): string {
  const parts = [`attempt ${p.attempt ?? 1}`];
  if (p.step !== undefined) parts.push(`step ${p.step}`);
  if (p.epoch !== undefined) parts.push(`epoch ${p.epoch}`);
  if (p.metric) parts.push(`${p.metric.name} ${Number(p.metric.value.toPrecision(6))}`);
  if (p.checkpoint) parts.push(`checkpoint ${p.checkpoint}`);
  if (p.resumedFrom) parts.push(`(resumed from ${p.resumedFrom})`);
  if (p.message) parts.push(`— ${p.message}`);
  return parts.join(', ');
}

const NO_WORKER_HINT_MS = 20_000;

/** Prints a line on stderr whenever the run's progress changes, until `done` settles. */
async function followProgress(
  client: Client,
  handle: WorkflowHandle,
  done: Promise<unknown>,
  queue: string,
): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  const started = Date.now();
  let last = '';
  let lastError = '';
  let hinted = false;
  while (!finished) {
    const details = await trainingDetails(client, handle).catch(() => undefined);
    if (!details && !hinted && Date.now() - started > NO_WORKER_HINT_MS) {
      process.stderr.write(
        `  no worker has started the training in ${NO_WORKER_HINT_MS / 1000}s: is one polling its queue? (anvil worker --queue ${queue})\n`,
      );
      hinted = true;
    }
    if (details) {
      const line = describeProgress(details);
      if (line !== last) process.stderr.write(`  [${Math.round((Date.now() - started) / 1000)}s] ${line}\n`);
      if (details.protocolError && details.protocolError !== lastError)
        process.stderr.write(`  progress line ignored: ${details.protocolError}\n`);
      last = line;
      lastError = details.protocolError ?? '';
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }
}

async function follow(
  client: Client,
  handle: WorkflowHandle<typeof trainRun>,
  json: boolean,
  queue = 'cpu|gpu',
): Promise<number> {
  const done = workflowResult(handle);
  if (!json) await followProgress(client, handle, done, queue);
  const result = await done;
  if (json) console.log(JSON.stringify({ workflowId: handle.workflowId, ...result }));
  else console.log(`finished: ${describeProgress(result)}\nworkspace: ${result.workspaceDir}`);
  return 0;
}

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      data: { type: 'string' },
      gpu: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      watch: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.watch) {
    if (positionals.length) throw usageError(help, '--watch takes no script');
    return withTemporal(config, ({ temporal: { client } }) =>
      follow(client, client.workflow.getHandle<typeof trainRun>(values.watch!), values.json!),
    );
  }
  const [script] = positionals;
  if (!script || positionals.length > 1) throw usageError(help, 'give one training script');
  const scriptFile = resolve(script);
  if (!existsSync(scriptFile) || !statSync(scriptFile).isFile()) {
    throw inputError(`no training script at ${scriptFile}`, 'pass the path of a Python file');
  }
  const dataDir = values.data ? resolve(values.data) : undefined;
  if (dataDir && !existsSync(dataDir))
    throw inputError(`no data folder at ${dataDir}`, 'pass an existing folder to --data');
  // The worker refuses data outside the served folders; say so before starting anything.
  if (dataDir) confinedPath(dataDir, inputRoots(config), '--data');
  const timeoutS = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutS !== undefined && !(Number.isInteger(timeoutS) && timeoutS > 0)) {
    throw usageError(help, `--timeout must be a whole number of seconds (got ${values.timeout})`);
  }
  return withTemporal(config, async ({ temporal, workflowUrl }) => {
    const workflowId = `train-${basename(scriptFile).replace(/\.py$/, '')}-${Date.now()}`;
    const handle = await temporal.client.workflow.start<typeof trainRun>('trainRun', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId,
      args: [
        {
          code: readFileSync(scriptFile, 'utf8'),
          dataDir,
          gpu: values.gpu,
          ...(timeoutS ? { limits: { timeoutS } } : {}),
        },
      ],
    });
    if (!values.json) {
      const link = workflowUrl(workflowId);
      const queue = values.gpu ? 'gpu' : 'cpu';
      console.error(`trainRun ${workflowId} started on the ${queue} queue${link ? ` — ${link}` : ''}`);
      console.error(`  follow it later with: anvil train --watch ${workflowId}`);
    }
    return follow(temporal.client, handle, values.json!, values.gpu ? 'gpu' : 'cpu');
  });
}
