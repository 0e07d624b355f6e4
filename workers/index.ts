import type { Worker } from '@temporalio/worker';
import type { QueueKind } from '../domain/queues';
import { createControlWorker } from './control';
import { createCpuWorker } from './cpu';
import type { WorkerDeps } from './deps';
import { countGpus, createGpuWorker } from './gpu';
import { createLlmWorker } from './llm';

export type { WorkerDeps } from './deps';

/** A kind may run more than one Temporal worker (sandbox hosts also poll their own session queue). */
const FACTORIES: Record<QueueKind, (deps: WorkerDeps) => Promise<Worker[]>> = {
  control: createControlWorker,
  llm: createLlmWorker,
  cpu: createCpuWorker,
  gpu: createGpuWorker,
};

export function createWorker(kind: QueueKind, deps: WorkerDeps): Promise<Worker[]> {
  return FACTORIES[kind](deps);
}

/** The kinds the embedded default runs in-process: all four, GPU only where there is one (or emulated). */
export function embeddedKinds(deps: Pick<WorkerDeps, 'config'>): QueueKind[] {
  return deps.config.workers.gpuEmulate || countGpus() > 0
    ? ['control', 'llm', 'cpu', 'gpu']
    : ['control', 'llm', 'cpu'];
}
