// Micro tasks vs their seeds: forges three seed tasks of different task types from large example
// datasets, synthesizes micro tasks from each, then runs each baseline solution on the seed and on
// its micro tasks in the sandbox, interleaved, with the same limits; prints wall times (container
// start included) and compute times (the script after the ML imports, measured inside Python), and
// their ratios. Usage: npx tsx bench/synth-speedup.ts [runs=3]
import { copyFileSync, cpSync, createReadStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import Docker from 'dockerode';
import type { ForgedTask } from '../domain/forge';
import { taskQueueName } from '../domain/queues';
import type { SynthResult } from '../domain/synth';
import { exampleDatasetPath } from '../examples/forge-datasets';
import { packagePaths } from '../package/layout';
import { readManifest } from '../package/manifest';
import { DockerSandbox } from '../sandbox/docker';
import type { forgeDataset, synthesizeTasks, verifyPackage } from '../workflows';
import { startEmbedded } from './embedded';
import { median } from './stats';

/**
 * Where the seed of each task type comes from, largest first: a Forge run over an example
 * dataset, or a hand-written package in examples/seeds/ whose raw/flights.csv is the flights-3m
 * example (the Forge offers no binary or multiclass target on that dataset). The first verified
 * task of the type is the seed. A 13x speed-up needs seeds whose baseline runs for well over 13 s
 * here, since every sandboxed run costs about 1 s before the script starts.
 */
type SeedSource = { forge: string } | { package: string; raw: string };
const SEEDS: [string, SeedSource[]][] = [
  ['regression', [{ forge: 'flights-3m' }, { forge: 'seattle-weather' }, { forge: 'boston-housing' }]],
  ['binary-classification', [{ package: 'flights-delayed', raw: 'flights-3m' }, { forge: 'spam-assassin' }]],
  [
    'multiclass-classification',
    [{ package: 'flights-origin-hub', raw: 'flights-3m' }, { forge: 'spam-assassin' }, { forge: 'iris' }],
  ],
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
  const sandbox = new DockerSandbox(new Docker(), {
    image: config.sandbox.image,
    runsDir: join(config.paths.artifacts, 'bench-runs'),
  });

  const timed = async (packageDir: string) => {
    const files = packagePaths(packageDir);
    const code = TIMER + readFileSync(files.baseline, 'utf8');
    const runKey = `bench-${Date.now()}-${Math.random()}`;
    const run = await sandbox.run({ code, dataDir: files.public, limits: LIMITS }, { runKey });
    const script = /ANVIL_SCRIPT_S=([\d.]+)/.exec(run.stdout)?.[1];
    if (run.exitCode !== 0 || !script)
      throw new Error(
        `baseline of ${packageDir} ${run.timedOut ? 'timed out' : `exited ${run.exitCode}`}: ${run.stderr.slice(-500)}`,
      );
    return { wallMs: run.wallMs, scriptMs: Number(script) * 1000 };
  };

  const rows: string[] = [];
  const forged = new Map<string, ForgedTask[]>();
  const forge = async (dataset: string) => {
    if (!forged.has(dataset)) {
      const result = await client.workflow.execute<typeof forgeDataset>('forgeDataset', {
        taskQueue,
        workflowId: `bench-synth-forge-${dataset}-${Date.now()}`,
        args: [
          {
            dataset: await exampleDatasetPath(dataset, join(config.paths.home, 'examples')),
            name: dataset,
            catalogDir: config.paths.catalog,
            maxTasks: 3,
            repairRounds: 1,
          },
        ],
      });
      forged.set(dataset, result.tasks);
    }
    return forged.get(dataset)!;
  };
  /** A hand-written seed package with its raw data, verified and published like an import. */
  const published = async (
    name: string,
    raw: string,
  ): Promise<{ id: string; status: string; path: string; failedChecks: string[] }> => {
    const dir = join(config.paths.home, 'seeds', name);
    cpSync(join(__dirname, '..', 'examples', 'seeds', name), dir, { recursive: true });
    const rawDir = packagePaths(dir).raw;
    mkdirSync(rawDir, { recursive: true });
    copyFileSync(await exampleDatasetPath(raw, join(config.paths.home, 'examples')), join(rawDir, 'flights.csv'));
    const report = await client.workflow.execute<typeof verifyPackage>('verifyPackage', {
      taskQueue,
      workflowId: `bench-synth-seed-${name}-${Date.now()}`,
      args: [{ sourceDir: dir, publish: { catalogDir: config.paths.catalog, when: 'verified' } }],
    });
    return {
      id: name,
      status: report.status,
      path: report.publishedTo ?? report.packageDir,
      failedChecks: report.checks.filter((c) => !c.passed).map((c) => c.name),
    };
  };
  for (const [taskType, sources] of SEEDS) {
    let seed: { id: string; path: string } | undefined;
    for (const source of sources) {
      const tasks = 'forge' in source ? await forge(source.forge) : [await published(source.package, source.raw)];
      for (const t of tasks) {
        if (!seed && t.status === 'verified' && (await readManifest(t.path)).taskType === taskType) seed = t;
      }
      if (seed) break;
      rows.push(
        `(${'forge' in source ? source.forge : source.package}: no verified ${taskType} task; got ${tasks.map((t) => `${t.id} ${t.status}${t.failedChecks.length ? ` [${t.failedChecks.join(', ')}]` : ''}`).join(', ')})`,
      );
    }
    if (!seed) continue;
    console.error(`seed ${seed.id}: synthesizing micro tasks`);
    const synth: SynthResult = await client.workflow.execute<typeof synthesizeTasks>('synthesizeTasks', {
      taskQueue,
      workflowId: `bench-synth-${seed.id}-${Date.now()}`,
      args: [{ seedTaskId: seed.id, catalogDir: config.paths.catalog, count: 2, rows: [50, 200] }],
    });
    const seedTrain = await new Promise<number>((done, fail) => {
      let n = 0;
      createReadStream(packagePaths(seed.path).train)
        .pipe(parse({ columns: true }))
        .on('data', () => (n += 1))
        .on('end', () => done(n))
        .on('error', fail);
    });
    await timed(seed.path); // warm-up: page cache, image layers
    for (const micro of synth.tasks) {
      if (micro.status !== 'verified') {
        rows.push(`${seed.id} → ${micro.id}: rejected (${micro.failedChecks.join(', ')})`);
        continue;
      }
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
  console.log(
    `synth-speedup: solutions/baseline.py of each seed and of its micro tasks, sandbox limits ${JSON.stringify(LIMITS)}, median of ${runs} interleaved runs`,
  );
  console.log(
    `${'seed task'.padEnd(40)} ${'micro task'.padEnd(44)} ${'seed'.padStart(8)} ${'micro'.padStart(8)} ${'wall'.padStart(7)}   ${'seed'.padStart(8)} ${'micro'.padStart(8)} ${'compute'.padStart(7)}`,
  );
  for (const row of rows) console.log(row);
  console.log(
    'wall = container start to exit, as a run is billed (Python start-up and imports included); compute = baseline.py itself (read, fit, predict, write), timed inside Python after numpy/pandas/scipy/scikit-learn were imported.',
  );
  console.log(
    "The seed and micro baselines are different scripts (the Forge's template vs the ML Developer's), each its task's own baseline.",
  );
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
