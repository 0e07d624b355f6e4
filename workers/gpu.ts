import { execFileSync } from 'node:child_process';
import type { Worker } from '@temporalio/worker';
import type { AnvilConfig } from '../config';
import type { WorkerDeps } from './deps';
import { createSandboxWorkers } from './sandbox-workers';

export interface HostGpu {
  /** `nvidia-smi` index, e.g. "0" */
  index: string;
  uuid?: string;
}

/** The GPUs in `nvidia-smi -L` output: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5f1c…)" (MIG lines are indented). */
export function parseGpuList(out: string): HostGpu[] {
  return [...out.matchAll(/^GPU (\d+):.*?(?:\(UUID: (GPU-[0-9A-Fa-f-]+)\))?\s*$/gm)].map((m) => ({
    index: m[1]!,
    ...(m[2] ? { uuid: m[2] } : {}),
  }));
}

/** GPUs on this host (none without a driver). */
export function listGpus(): HostGpu[] {
  try {
    return parseGpuList(
      execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }),
    );
  } catch {
    return [];
  }
}

export function countGpus(): number {
  return listGpus().length;
}

/**
 * The GPU ids a GPU worker hands out, one per run: `workers.gpuIds`, else every GPU of the host.
 * Throws on a host without GPUs unless emulation is on; emulated, the worker uses none.
 */
export function gpusForWorker(config: AnvilConfig, host: HostGpu[] = listGpus()): string[] {
  const { gpuEmulate, gpuIds } = config.workers;
  if (gpuEmulate) return [];
  if (host.length === 0) {
    throw new Error(
      'no GPU on this host (nvidia-smi lists none): run the GPU worker on a GPU host with the NVIDIA driver, or set ANVIL_GPU_EMULATE=1 to run GPU work on CPU (tests only)',
    );
  }
  if (!gpuIds) return host.map((g) => g.index);
  const unknown = gpuIds.filter((id) => !host.some((g) => g.index === id || g.uuid === id));
  if (unknown.length) {
    throw new Error(
      `workers.gpuIds names GPU(s) ${unknown.join(', ')} that nvidia-smi does not list (this host has ${host.map((g) => g.index).join(', ')}): fix ANVIL_GPU_IDS`,
    );
  }
  return gpuIds;
}

/**
 * `<prefix>-gpu` and this host's GPU session queue: every run gets one of this worker's GPUs and
 * waits while all are busy; by default as many runs as GPUs (ANVIL_GPU_CONCURRENCY overrides).
 */
export async function createGpuWorker(deps: WorkerDeps): Promise<Worker[]> {
  const gpus = gpusForWorker(deps.config);
  return createSandboxWorkers(deps, 'gpu', {
    gpus,
    concurrency: deps.config.workers.gpuConcurrency ?? Math.max(1, gpus.length),
  });
}
