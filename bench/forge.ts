// Forging the development corpus (examples/dev-corpus.ts; or the named example datasets): tasks
// verified per dataset, seconds per task, whether the first verified task hits an intended target and
// how many verified tasks are on the nonsense list; and per-stage time read from the workflow
// histories: profiling, agent roles, each verification stage, publishing, and the orchestration
// overhead (child workflow wall time not covered by any of its activities).
// Usage: npx tsx bench/forge.ts [names…]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { taskQueueName } from '../domain/queues';
import { CORPUS_NAMES, type CorpusEntry, corpusDatasetPath, DEV_CORPUS, judgeTargets } from '../examples/dev-corpus';
import { exampleDatasetPath } from '../examples/forge-datasets';
import { LAYOUT } from '../package/layout';
import type { forgeDataset } from '../workflows';
import { startEmbedded } from './embedded';

const STAGES: Record<string, string> = {
  intakeDataset: 'profiling',
  brainstorm: 'roles',
  design: 'roles',
  refactor: 'roles',
  review: 'roles',
  runAssertions: 'assertions',
  runExecution: 'execution',
  writeReport: 'publish',
  publishTask: 'publish',
};
const COLUMNS = ['profiling', 'roles', 'assertions', 'execution', 'publish'];

const ms = (t?: temporal.api.common.v1.IPayload | { seconds?: unknown; nanos?: number | null } | null) => {
  const ts = t as { seconds?: { toNumber?: () => number } | number; nanos?: number } | undefined;
  const seconds = typeof ts?.seconds === 'number' ? ts.seconds : (ts?.seconds?.toNumber?.() ?? 0);
  return seconds * 1000 + (ts?.nanos ?? 0) / 1e6;
};

interface Timing {
  wallMs: number;
  stages: Record<string, number>;
  /** [start, end] of each activity attempt's execution */
  intervals: [number, number][];
}

/** Activity execution time per stage, and the workflow's wall time, from one history. */
async function timing(client: Client, workflowId: string): Promise<Timing> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const types = new Map<number, string>();
  const started = new Map<number, number>();
  const out: Timing = { wallMs: ms(events.at(-1)?.eventTime) - ms(events[0]?.eventTime), stages: {}, intervals: [] };
  for (const e of events) {
    const id = Number(e.eventId);
    if (e.activityTaskScheduledEventAttributes)
      types.set(id, e.activityTaskScheduledEventAttributes.activityType!.name!);
    if (e.activityTaskStartedEventAttributes)
      started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e.eventTime));
    const done =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    if (done) {
      const scheduled = Number(done.scheduledEventId);
      const start = started.get(scheduled) ?? ms(e.eventTime);
      const stage = STAGES[types.get(scheduled) ?? ''] ?? 'other';
      out.stages[stage] = (out.stages[stage] ?? 0) + (ms(e.eventTime) - start);
      out.intervals.push([start, ms(e.eventTime)]);
    }
  }
  return out;
}

/** Time covered by at least one interval. */
function covered(intervals: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

const corpus: Record<string, CorpusEntry | undefined> = DEV_CORPUS;

async function targetOf(packageDir: string): Promise<string> {
  return (JSON.parse(await readFile(join(packageDir, LAYOUT.manifest), 'utf8')) as { target: string }).target;
}

async function main() {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : CORPUS_NAMES;
  const { client, config, stop } = await startEmbedded(['control', 'llm', 'cpu']);
  const s = (v: number) => (v / 1000).toFixed(1).padStart(7);
  console.log(
    `forge: maxTasks 3, repairRounds 1, concurrency 2; stage columns: seconds of activity execution, summed over a dataset's tasks`,
  );
  console.log(
    `${'dataset'.padEnd(31)} ${'verified'.padStart(8)} ${'wall'.padStart(7)} ${'s/task'.padStart(7)} ${COLUMNS.map((c) => c.padStart(10)).join(' ')} ${'overhead%'.padStart(9)}  targets (first verified: hit?; nonsense)`,
  );
  const totals = { datasets: 0, hits: 0, verified: 0, tasks: 0, nonsense: 0, wallMs: 0, judged: 0 };
  for (const name of names) {
    const cacheDir = join(config.paths.home, 'examples');
    const entry = corpus[name];
    const dataset = entry
      ? await corpusDatasetPath(name as keyof typeof DEV_CORPUS, cacheDir)
      : await exampleDatasetPath(name, cacheDir);
    const result = await client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `bench-forge-${name}-${Date.now()}`,
      args: [{ dataset, name, catalogDir: config.paths.catalog, maxTasks: 3, repairRounds: 1, concurrency: 2 }],
    });
    const parent = await timing(client, result.workflowId);
    const children = await Promise.all(result.tasks.map((t) => timing(client, `${result.workflowId}--${t.id}`)));
    const stages: Record<string, number> = { ...parent.stages };
    let childWall = 0;
    let childOverhead = 0;
    for (const c of children) {
      for (const [k, v] of Object.entries(c.stages)) stages[k] = (stages[k] ?? 0) + v;
      childWall += c.wallMs;
      childOverhead += c.wallMs - covered(c.intervals);
    }
    const verifiedTasks = result.tasks.filter((t) => t.status === 'verified');
    const targets = await Promise.all(verifiedTasks.map((t) => targetOf(t.path)));
    const rejected = result.tasks.filter((t) => t.status !== 'verified').map((t) => `${t.id} rejected`);
    let judged = '';
    if (entry) {
      const { hit, nonsense } = judgeTargets(entry, targets);
      totals.judged++;
      totals.hits += Number(hit);
      totals.nonsense += nonsense.length;
      judged = ` (${hit ? 'hit' : 'MISS'}; nonsense ${nonsense.length})`;
    }
    totals.datasets++;
    totals.verified += verifiedTasks.length;
    totals.tasks += result.tasks.length;
    totals.wallMs += parent.wallMs;
    const perTask = result.tasks.length ? parent.wallMs / result.tasks.length : 0;
    console.log(
      `${name.padEnd(31)} ${`${verifiedTasks.length}/${result.tasks.length}`.padStart(8)} ${s(parent.wallMs)} ${s(perTask)} ${COLUMNS.map((c) => s(stages[c] ?? 0).padStart(10)).join(' ')} ${`${childWall ? ((100 * childOverhead) / childWall).toFixed(1) : '0'}%`.padStart(9)}  ${[...targets, ...rejected].join(', ')}${judged}`,
    );
  }
  console.log(
    `total: ${totals.verified}/${totals.tasks} tasks verified over ${totals.datasets} datasets (${(totals.verified / totals.datasets).toFixed(2)} per dataset), ` +
      `${(totals.wallMs / 1000 / Math.max(1, totals.tasks)).toFixed(1)} s of forge wall time per task` +
      (totals.judged
        ? `; first verified task on an intended target: ${totals.hits}/${totals.judged}; verified tasks on the nonsense list: ${totals.nonsense}/${totals.verified}`
        : ''),
  );
  console.log(
    'overhead% = time inside forgeTask workflows not covered by any activity (scheduling, workflow tasks, queue waits), of their wall time',
  );
  console.log(
    'assertions and execution are sandbox time (containers included); profiling and roles run in the workers, no sandbox',
  );
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
