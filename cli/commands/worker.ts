import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { QUEUE_KINDS, type QueueKind } from '../../domain/queues';
import { connectTemporal } from '../../workers/connect';
import { gpusForWorker } from '../../workers/gpu';
import { startWorkers } from '../embedded';

export const help = `anvil worker --queue control|llm|cpu|gpu
  Runs one worker kind until SIGINT/SIGTERM, against TEMPORAL_ADDRESS (or the local dev server).`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { queue: { type: 'string' } }, strict: true });
  const kind = values.queue as QueueKind | undefined;
  if (!kind || !QUEUE_KINDS.includes(kind)) {
    console.error(`--queue must be one of ${QUEUE_KINDS.join(', ')} (got ${kind ?? 'nothing'})`);
    return 2;
  }
  if (kind === 'gpu') gpusForWorker(config); // fail before connecting on a host without GPUs
  const temporal = await connectTemporal(config, { detachServer: true });
  try {
    const workers = await startWorkers(temporal, config, [kind]);
    for (const w of workers) console.log(`worker ${w.options.identity} polling ${w.options.taskQueue} on ${temporal.address}`);
    // One signal stops them all (the SDK shuts every worker down on SIGINT/SIGTERM).
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await temporal.close();
  }
  return 0;
}
