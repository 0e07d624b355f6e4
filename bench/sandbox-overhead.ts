// Median wall time of a trivial Python run through the full path (client → workflow → activity →
// container) divided by a plain `docker run` of the same code, interleaved so both see the same
// machine load. Usage: npx tsx bench/sandbox-overhead.ts [runs=20]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { loadConfig } from '../config';
import { taskQueueName } from '../domain/queues';
import { sandboxImageTag } from '../sandbox/image';
import { createWorker } from '../workers';
import { connectTemporal } from '../workers/connect';
import { installQuietRuntime } from '../workers/runtime';
import type { sandboxRun } from '../workflows';
import { median, quantile } from './stats';

const CODE = 'print(sum(range(1000)))';
const runs = Number(process.argv[2] ?? 20);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function main() {
  installQuietRuntime();
  const home = mkdtempSync(join(tmpdir(), 'anvil-bench-'));
  const config = loadConfig({
    ANVIL_HOME: home,
    ANVIL_CONFIG: join(__dirname, '..', 'tests', 'helpers', 'empty-config.json'),
    ANVIL_DEV_SERVER_PORT: String(await freePort()),
    ANVIL_DEV_SERVER_UI_PORT: String(await freePort()),
    ANVIL_TASK_QUEUE_PREFIX: 'bench',
  });
  const temporal = await connectTemporal(config, { detachServer: false });
  const deps = { connection: temporal.workerConnection, config, docker: new Docker() };
  const workers = await Promise.all([createWorker('control', deps), createWorker('cpu', deps)]);
  const running = workers.map((w) => w.run());
  const image = config.sandbox.image ?? sandboxImageTag();

  const full = async () => {
    const t0 = performance.now();
    const r = await temporal.client.workflow.execute<typeof sandboxRun>('sandboxRun', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `bench-${Date.now()}-${Math.random()}`,
      args: [{ code: CODE }],
    });
    if (r.stdout.trim() !== '499500') throw new Error(`full path printed ${r.stdout}`);
    return performance.now() - t0;
  };
  const plain = () => {
    const t0 = performance.now();
    const out = execFileSync('docker', ['run', '--rm', '--network', 'none', '--user', '10001:10001', image, 'python3', '-c', CODE], { encoding: 'utf8' });
    if (out.trim() !== '499500') throw new Error(`docker run printed ${out}`);
    return performance.now() - t0;
  };

  await full(); // warm-up: first workflow task, first container
  plain();
  const fullMs: number[] = [];
  const plainMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    fullMs.push(await full());
    plainMs.push(plain());
    process.stderr.write(`\r  run ${i + 1}/${runs}`);
  }
  process.stderr.write('\n');

  const row = (name: string, v: number[]) => `${name.padEnd(44)} median ${median(v).toFixed(0).padStart(5)} ms   p95 ${quantile(v, 0.95).toFixed(0).padStart(5)} ms`;
  console.log(`sandbox-overhead: ${runs} runs each, interleaved, code: ${CODE}`);
  console.log(row('full path (client→workflow→activity→docker)', fullMs));
  console.log(row('plain docker run', plainMs));
  console.log(`ratio (median full / median plain): ${(median(fullMs) / median(plainMs)).toFixed(2)}`);

  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await temporal.close();
  temporal.devServer?.process?.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
