// Micro tasks vs their seeds: forges three seed tasks of different task types from large example
// datasets, synthesizes micro tasks from each, then runs each baseline solution on the seed and on
// its micro tasks in the sandbox, interleaved, with the same limits; prints wall times (container
// start included) and compute times (the script after the ML imports, measured inside Python), and
// their ratios. Usage: npx tsx bench/synth-speedup.ts [runs=3]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import Docker from 'dockerode';
import type { ForgedTask } from '../domain/forge';
import { taskQueueName } from '../domain/queues';
import type { SynthResult } from '../domain/synth';
import { exampleDatasetPath } from '../examples/forge-datasets';
import { DockerSandbox } from '../sandbox/docker';
import type { forgeDataset, synthesizeTasks } from '../workflows';
import { startEmbedded } from './embedded';
import { median } from './stats';

/**
 * The seed of each task type: the first verified task of that type forged from these datasets,
 * largest first (flights-100k's tasks often fail verification: delays are hard to predict).
 */
const SEEDS: [string, string[]][] = [
  ['regression', ['flights-100k', 'seattle-weather', 'boston-housing']],
  ['binary-classification', ['spam-assassin', 'penguins']],
  ['multiclass-classification', ['spam-assassin', 'seattle-weather', 'iris']],
];
const LIMITS = { cpus: 1, memoryMb: 4096, pids: 256, timeoutS: 1800, outputBytes: 256 * 1024, tmpMb: 512 };
/**
 * Prepended to the solution: imports the ML stack both baselines use, then times the script from
 * there to its exit, so the compute time leaves Python start-up and imports out.
 */
const TIMER = [
  'import numpy, pandas, scipy, sklearn.compose, sklearn.ensemble, sklearn.feature_extraction.text, sklearn.impute, sklearn.linear_model, sklearn.neighbors, sklearn.pipeline, sklearn.preprocessing',
  'import time as _t, atexit as _a',
  '_t0 = _t.perf_counter()',
  '_a.register(lambda: print(f"ANVIL_SCRIPT_S={_t.perf_counter() - _t0:.4f}"))',
  '',
].join('\n');
const runs = Number(process.argv[2] ?? 3);

async function main() {
  const { client, config, stop } = await startEmbedded(['control', 'llm', 'cpu']);
  const taskQueue = taskQueueName(config.taskQueuePrefix, 'control');
  const sandbox = new DockerSandbox(new Docker(), { image: config.sandbox.image, runsDir: join(config.paths.artifacts, 'bench-runs') });

  const timed = async (packageDir: string) => {
    const code = TIMER + readFileSync(join(packageDir, 'solutions', 'baseline.py'), 'utf8');
    const run = await sandbox.run({ code, dataDir: join(packageDir, 'public'), limits: LIMITS }, { runKey: `bench-${Date.now()}-${Math.random()}` });
    const script = /ANVIL_SCRIPT_S=([\d.]+)/.exec(run.stdout)?.[1];
    if (run.exitCode !== 0 || !script) throw new Error(`baseline of ${packageDir} ${run.timedOut ? 'timed out' : `exited ${run.exitCode}`}: ${run.stderr.slice(-500)}`);
    return { wallMs: run.wallMs, scriptMs: Number(script) * 1000 };
  };

  const rows: string[] = [];
  const forged = new Map<string, ForgedTask[]>();
  const forge = async (dataset: string) => {
    if (!forged.has(dataset)) {
      const result = await client.workflow.execute<typeof forgeDataset>('forgeDataset', {
        taskQueue,
        workflowId: `bench-synth-forge-${dataset}-${Date.now()}`,
        args: [{ dataset: await exampleDatasetPath(dataset, join(config.paths.home, 'examples')), name: dataset, catalogDir: config.paths.catalog, maxTasks: 3, repairRounds: 1 }],
      });
      forged.set(dataset, result.tasks);
    }
    return forged.get(dataset)!;
  };
  for (const [taskType, datasets] of SEEDS) {
    let seed: ForgedTask | undefined;
    for (const dataset of datasets) {
      const tasks = await forge(dataset);
      seed = tasks.find((t) => t.status === 'verified' && JSON.parse(readFileSync(join(t.path, 'task.json'), 'utf8')).taskType === taskType);
      if (seed) break;
      rows.push(`(${dataset}: no verified ${taskType} task; forged ${tasks.map((t) => `${t.id} ${t.status}${t.failedChecks.length ? ` [${t.failedChecks.join(', ')}]` : ''}`).join(', ')})`);
    }
    if (!seed) continue;
    const synth: SynthResult = await client.workflow.execute<typeof synthesizeTasks>('synthesizeTasks', {
      taskQueue,
      workflowId: `bench-synth-${seed.id}-${Date.now()}`,
      args: [{ seedTaskId: seed.id, catalogDir: config.paths.catalog, count: 2, rows: [50, 200] }],
    });
    const seedTrain = (parse(readFileSync(join(seed.path, 'public', 'train.csv'), 'utf8'), { columns: true }) as unknown[]).length;
    for (const micro of synth.tasks) {
      if (micro.status !== 'verified') {
        rows.push(`${seed.id} → ${micro.id}: rejected (${micro.failedChecks.join(', ')})`);
        continue;
      }
      await timed(seed.path); // warm-up: page cache, image layers
      const seedTimes = [];
      const microTimes = [];
      for (let i = 0; i < runs; i++) {
        seedTimes.push(await timed(seed.path));
        microTimes.push(await timed(micro.path));
      }
      const m = (v: { wallMs: number; scriptMs: number }[], k: 'wallMs' | 'scriptMs') => median(v.map((x) => x[k]));
      const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`.padStart(8);
      rows.push(
        `${`${seed.id} (${seedTrain} rows)`.padEnd(40)} ${`${micro.id} (${micro.rows.train} rows)`.padEnd(44)} ${s(m(seedTimes, 'wallMs'))} ${s(m(microTimes, 'wallMs'))} ${`${(m(seedTimes, 'wallMs') / m(microTimes, 'wallMs')).toFixed(1)}x`.padStart(7)}   ${s(m(seedTimes, 'scriptMs'))} ${s(m(microTimes, 'scriptMs'))} ${`${(m(seedTimes, 'scriptMs') / m(microTimes, 'scriptMs')).toFixed(1)}x`.padStart(7)}`,
      );
    }
  }
  console.log(`synth-speedup: solutions/baseline.py of each seed and of its micro tasks, sandbox limits ${JSON.stringify(LIMITS)}, median of ${runs} interleaved runs`);
  console.log(`${'seed task'.padEnd(40)} ${'micro task'.padEnd(44)} ${'seed'.padStart(8)} ${'micro'.padStart(8)} ${'wall'.padStart(7)}   ${'seed'.padStart(8)} ${'micro'.padStart(8)} ${'compute'.padStart(7)}`);
  for (const row of rows) console.log(row);
  console.log('wall = container start to exit, as a run is billed (Python start-up and imports included); compute = baseline.py itself (read, fit, predict, write), timed inside Python after numpy/pandas/scipy/scikit-learn were imported.');
  console.log('The seed and micro baselines are different scripts (the Forge\'s template vs the ML Developer\'s), each its task\'s own baseline.');
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
