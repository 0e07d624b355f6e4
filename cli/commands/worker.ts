import { parseArgs } from 'node:util';
import { connectTemporal } from '../../client';
import type { AnvilConfig } from '../../config';
import { QUEUE_KINDS, type QueueKind } from '../../domain/queues';
import { gpusForWorker } from '../../workers/gpu';
import { startWorkers } from '../../workers/in-process';
import { usageError } from '../failure-report';

export const help = `anvil worker --queue control|llm|cpu|gpu
  Runs one worker kind until SIGINT/SIGTERM, against TEMPORAL_ADDRESS (or the local dev server).`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { queue: { type: 'string' } }, strict: true });
  const kind = values.queue as QueueKind | undefined;
  if (!kind || !QUEUE_KINDS.includes(kind)) {
    throw usageError(help, `--queue must be one of ${QUEUE_KINDS.join(', ')} (got ${kind ?? 'nothing'})`);
  }
  if (kind === 'gpu') gpusForWorker(config); // fail before connecting on a host without GPUs
  const temporal = await connectTemporal(config, { detachServer: true });
  try {
    const started = await startWorkers(temporal, config, [kind]);
    for (const { options } of started.workers) {
      console.log(`worker ${options.identity} polling ${options.taskQueue} on ${temporal.address}`);
    }
    // One signal stops them all (the SDK shuts every worker down on SIGINT/SIGTERM).
    await started.run();
  } finally {
    await temporal.close();
  }
  return 0;
}
