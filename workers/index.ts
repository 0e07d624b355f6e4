import type { Worker } from '@temporalio/worker';
import type { QueueKind } from '../domain/queues';
import { createControlWorker } from './control';
import { createCpuWorker } from './cpu';
import type { WorkerDeps } from './deps';
import { countGpus, createGpuWorker } from './gpu';
import { createLlmWorker, LLM_ACTIVITIES } from './llm';

export type { WorkerDeps } from './deps';

const FACTORIES: Record<QueueKind, (deps: WorkerDeps) => Promise<Worker>> = {
  control: createControlWorker,
  llm: createLlmWorker,
  cpu: createCpuWorker,
  gpu: createGpuWorker,
};

export function createWorker(kind: QueueKind, deps: WorkerDeps): Promise<Worker> {
  return FACTORIES[kind](deps);
}

/** The kinds the embedded default runs in-process: those with work to do, GPU only where there is one (or emulated). */
export function embeddedKinds(deps: Pick<WorkerDeps, 'config'>): QueueKind[] {
  const kinds: QueueKind[] = ['control', 'cpu'];
  if (Object.keys(LLM_ACTIVITIES).length > 0) kinds.push('llm');
  if (deps.config.workers.gpuEmulate || countGpus() > 0) kinds.push('gpu');
  return kinds;
}
