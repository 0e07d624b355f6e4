// Median wall time of a trivial Python run through the full path (client → workflow → activity →
// container) divided by a plain `docker run` of the same code, interleaved so both see the same
// machine load. Usage: npx tsx bench/sandbox-overhead.ts [runs=20]
import { execFileSync } from 'node:child_process';
import { taskQueueName } from '../domain/queues';
import { sandboxImageTag } from '../sandbox/image';
import type { sandboxRun } from '../workflows';
import { startEmbedded } from './embedded';
import { median, quantile } from './stats';

const CODE = 'print(sum(range(1000)))';
const runs = Number(process.argv[2] ?? 20);

async function main() {
  const { client, config, stop } = await startEmbedded(['control', 'cpu']);
  const image = config.sandbox.image ?? sandboxImageTag();

  const full = async () => {
    const t0 = performance.now();
    const r = await client.workflow.execute<typeof sandboxRun>('sandboxRun', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `bench-${Date.now()}-${Math.random()}`,
      args: [{ code: CODE }],
    });
    if (r.stdout.trim() !== '499500') throw new Error(`full path printed ${r.stdout}`);
    return performance.now() - t0;
  };
  const plain = () => {
    const t0 = performance.now();
    const out = execFileSync(
      'docker',
      ['run', '--rm', '--network', 'none', '--user', '10001:10001', image, 'python3', '-c', CODE],
      { encoding: 'utf8' },
    );
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

  const row = (name: string, v: number[]) =>
    `${name.padEnd(44)} median ${median(v).toFixed(0).padStart(5)} ms   p95 ${quantile(v, 0.95).toFixed(0).padStart(5)} ms`;
  console.log(`sandbox-overhead: ${runs} runs each, interleaved, code: ${CODE}`);
  console.log(row('full path (client→workflow→activity→docker)', fullMs));
  console.log(row('plain docker run', plainMs));
  console.log(`ratio (median full / median plain): ${(median(fullMs) / median(plainMs)).toFixed(2)}`);

  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
