import type { RunResult } from '../domain/sandbox';
import type { ResolvedRunSpec, RunOptions, Sandbox } from './sandbox';

interface Waiter {
  give(id: string): void;
}

/** A host's GPUs, one run each: `acquire` waits (first come, first served) until one is free. */
export class GpuSlots {
  private readonly ids: ReadonlySet<string>;
  private readonly free: string[];
  private readonly waiting: Waiter[] = [];

  constructor(ids: readonly string[]) {
    this.ids = new Set(ids);
    if (this.ids.size !== ids.length)
      throw new Error(`GPU ids must be distinct (got ${ids.join(', ')}); fix workers.gpuIds / ANVIL_GPU_IDS`);
    this.free = [...ids];
  }

  /** how many GPUs the pool hands out (0 when the GPU worker is emulated on CPU) */
  get size(): number {
    return this.ids.size;
  }

  /** A free GPU's id; waits behind earlier callers. Rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<string> {
    if (this.size === 0)
      return Promise.reject(new Error('this GPU pool is empty (emulated GPU worker): there is no GPU to acquire'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiting.length === 0 && this.free.length > 0) return Promise.resolve(this.free.shift()!);
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        give: (id) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(id);
        },
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Gives a GPU back: to the longest waiter, or to the free list. */
  release(id: string): void {
    if (!this.ids.has(id)) throw new Error(`GPU ${id} is not in this pool (${[...this.ids].join(', ')})`);
    if (this.free.includes(id)) throw new Error(`GPU ${id} was released twice`);
    const next = this.waiting.shift();
    if (next) next.give(id);
    else this.free.push(id);
  }
}

/**
 * Gives every run exactly one GPU of the pool (`RunOptions.gpus`), waiting while all are busy, and
 * frees it when the run ends however it ends. An empty pool (emulation) runs everything without GPU.
 */
export function withGpuSlots(sandbox: Sandbox, slots: GpuSlots): Sandbox {
  return {
    async run(spec: ResolvedRunSpec, options: RunOptions): Promise<RunResult> {
      if (slots.size === 0) return sandbox.run(spec, { ...options, gpus: [] });
      const gpu = await slots.acquire(options.signal);
      try {
        return await sandbox.run(spec, { ...options, gpus: [gpu] });
      } finally {
        slots.release(gpu);
      }
    },
    reapOrphans: () => sandbox.reapOrphans(),
  };
}
