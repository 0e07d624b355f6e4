import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import type { RunResult } from '../domain/sandbox';
import { GpuSlots, withGpuSlots } from '../sandbox/gpu-slots';
import type { ResolvedRunSpec, RunOptions, Sandbox } from '../sandbox/sandbox';
import { gpusForWorker, parseGpuList } from '../workers/gpu';

const spec: ResolvedRunSpec = {
  code: 'pass',
  limits: { cpus: 1, memoryMb: 256, pids: 64, timeoutS: 10, outputBytes: 4096, tmpMb: 16 },
};
const result = (gpus: string[] | undefined): RunResult => ({
  exitCode: 0,
  timedOut: false,
  oomKilled: false,
  stdout: JSON.stringify(gpus),
  stderr: '',
  stdoutBytes: 0,
  stderrBytes: 0,
  outputTruncated: false,
  wallMs: 1,
  workspaceDir: '/w',
});
const tick = () => new Promise((r) => setTimeout(r, 5));

/** A sandbox whose runs end when the test says so, recording the GPUs each one got. */
function fakeSandbox() {
  const running: { gpus?: string[]; finish(fail?: Error): void }[] = [];
  const sandbox: Sandbox = {
    run: (_spec, options: RunOptions) =>
      new Promise<RunResult>((resolve, reject) => {
        running.push({ gpus: options.gpus, finish: (fail) => (fail ? reject(fail) : resolve(result(options.gpus))) });
      }),
    reapOrphans: async () => 7,
  };
  return { sandbox, running };
}

describe('GPU slots', () => {
  it('hand each GPU to one holder at a time and the rest wait first come, first served', async () => {
    const slots = new GpuSlots(['0', '1']);
    const a = await slots.acquire();
    const b = await slots.acquire();
    expect([a, b].sort()).toEqual(['0', '1']);
    const order: string[] = [];
    const c = slots.acquire().then((id) => (order.push(`c:${id}`), id));
    const d = slots.acquire().then((id) => (order.push(`d:${id}`), id));
    await tick();
    expect(order).toEqual([]);
    slots.release(b);
    await tick();
    expect(order).toEqual([`c:${b}`]);
    slots.release(a);
    expect(await d).toBe(a);
    expect(order).toEqual([`c:${b}`, `d:${a}`]);
    expect(await c).toBe(b);
  });

  it('stop waiting when the signal aborts, and the freed GPU goes to the next waiter', async () => {
    const slots = new GpuSlots(['3']);
    const held = await slots.acquire();
    const ctrl = new AbortController();
    const cancelled = slots.acquire(ctrl.signal);
    const next = slots.acquire();
    ctrl.abort(new Error('activity cancelled'));
    await expect(cancelled).rejects.toThrow('activity cancelled');
    slots.release(held);
    expect(await next).toBe('3');
    await expect(slots.acquire(AbortSignal.abort(new Error('already gone')))).rejects.toThrow('already gone');
  });

  it('refuse a release of a GPU that is not held', () => {
    const slots = new GpuSlots(['0']);
    expect(() => slots.release('0')).toThrow(/released twice/);
    expect(() => slots.release('9')).toThrow(/not in this pool/);
    expect(() => new GpuSlots(['0', '0'])).toThrow(/distinct/);
  });
});

describe('a sandbox behind GPU slots', () => {
  it('gives every run exactly one GPU, one run per GPU, and waits while all are busy', async () => {
    const { sandbox, running } = fakeSandbox();
    const gpuSandbox = withGpuSlots(sandbox, new GpuSlots(['0', '1']));
    const runs = [0, 1, 2].map((i) => gpuSandbox.run(spec, { runKey: `r${i}` }));
    await tick();
    expect(running.map((r) => r.gpus)).toEqual([['0'], ['1']]);
    running[0]!.finish();
    expect(JSON.parse((await runs[0]!).stdout)).toEqual(['0']);
    await tick();
    expect(running[2]!.gpus).toEqual(['0']);
    running[1]!.finish();
    running[2]!.finish();
    await Promise.all(runs);
    expect(await gpuSandbox.reapOrphans()).toBe(7);
  });

  it('frees the GPU when a run fails', async () => {
    const { sandbox, running } = fakeSandbox();
    const gpuSandbox = withGpuSlots(sandbox, new GpuSlots(['5']));
    const failing = gpuSandbox.run(spec, { runKey: 'fails' });
    await tick();
    running[0]!.finish(new Error('engine gone'));
    await expect(failing).rejects.toThrow('engine gone');
    const next = gpuSandbox.run(spec, { runKey: 'next' });
    await tick();
    expect(running[1]!.gpus).toEqual(['5']);
    running[1]!.finish();
    await next;
  });

  it('cancels a run still waiting for a GPU without ever starting it', async () => {
    const { sandbox, running } = fakeSandbox();
    const gpuSandbox = withGpuSlots(sandbox, new GpuSlots(['0']));
    const first = gpuSandbox.run(spec, { runKey: 'a' });
    const ctrl = new AbortController();
    const waiting = gpuSandbox.run(spec, { runKey: 'b', signal: ctrl.signal });
    await tick();
    ctrl.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(running).toHaveLength(1);
    running[0]!.finish();
    await first;
  });

  it('runs everything without a GPU when the pool is empty (emulation)', async () => {
    const { sandbox, running } = fakeSandbox();
    const gpuSandbox = withGpuSlots(sandbox, new GpuSlots([]));
    const runs = [gpuSandbox.run(spec, { runKey: 'a' }), gpuSandbox.run(spec, { runKey: 'b' })];
    await tick();
    expect(running.map((r) => r.gpus)).toEqual([[], []]);
    for (const r of running) r.finish();
    await Promise.all(runs);
  });
});

describe('nvidia-smi -L', () => {
  it('lists GPU indices and UUIDs, not MIG devices', () => {
    const out =
      'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5f1c2d3e-aaaa-bbbb-cccc-0123456789ab)\n  MIG 1g.10gb     Device  0: (UUID: MIG-1234)\nGPU 1: Tesla T4 (UUID: GPU-0000)\n';
    expect(parseGpuList(out)).toEqual([
      { index: '0', uuid: 'GPU-5f1c2d3e-aaaa-bbbb-cccc-0123456789ab' },
      { index: '1', uuid: 'GPU-0000' },
    ]);
    expect(parseGpuList('')).toEqual([]);
  });
});

describe("a GPU worker's GPUs", () => {
  const config = (env: Record<string, string> = {}) =>
    loadConfig({
      ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'),
      ANVIL_HOME: '/tmp/anvil-gpu-test',
      ...env,
    });
  const host = [
    { index: '0', uuid: 'GPU-aa' },
    { index: '1', uuid: 'GPU-bb' },
  ];

  it("are all of the host's by default, or those ANVIL_GPU_IDS names", () => {
    expect(gpusForWorker(config(), host)).toEqual(['0', '1']);
    expect(gpusForWorker(config({ ANVIL_GPU_IDS: '1, GPU-aa' }), host)).toEqual(['1', 'GPU-aa']);
    expect(() => gpusForWorker(config({ ANVIL_GPU_IDS: '0,7' }), host)).toThrow(
      /GPU\(s\) 7 that nvidia-smi does not list.*ANVIL_GPU_IDS/,
    );
    expect(() => config({ ANVIL_GPU_IDS: 'all' })).toThrow(/workers\.gpuIds/);
  });

  it('are refused on a host without GPUs, unless emulated (then none)', () => {
    expect(() => gpusForWorker(config(), [])).toThrow(/no GPU on this host.*ANVIL_GPU_EMULATE=1/);
    expect(gpusForWorker(config({ ANVIL_GPU_EMULATE: '1' }), [])).toEqual([]);
    expect(gpusForWorker(config({ ANVIL_GPU_EMULATE: '1' }), host)).toEqual([]);
  });
});
