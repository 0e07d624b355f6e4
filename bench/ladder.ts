// The reference ladder's cost per forged task, beside the task's baseline time, read from the
// forgeTask histories and verification.json. Usage: npx tsx bench/ladder.ts [names…]
// `flights-10k` is the first 10,000 rows of flights-100k: the size the ladder's budget (≤3 min) is set for.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { LADDER_WINDOW, ladderLanes, type RungResult } from '../domain/ladder';
import { taskQueueName } from '../domain/queues';
import { humanRank } from '../domain/rewards';
import type { TaskManifest } from '../domain/task';
import { exampleDatasetPath } from '../examples/forge-datasets';
import { readLeaderboard } from '../package/leaderboard';
import type { forgeDataset } from '../workflows';
import { startEmbedded } from './embedded';

const seconds = (t: unknown) => {
  const ts = t as { seconds?: { toNumber?: () => number } | number; nanos?: number } | undefined;
  const s = typeof ts?.seconds === 'number' ? ts.seconds : (ts?.seconds?.toNumber?.() ?? 0);
  return s + (ts?.nanos ?? 0) / 1e9;
};

/** The ladder's wall time (writeLadder scheduled → last rung done) and its rungs' (or lanes') summed activity time. */
async function ladderTiming(client: Client, workflowId: string): Promise<{ wallS: number; rungS: number }> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const types = new Map<number, string>();
  const started = new Map<number, number>();
  let first = Infinity;
  let last = 0;
  let rungS = 0;
  for (const e of events) {
    const id = Number(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      types.set(id, scheduled.activityType!.name!);
      if (scheduled.activityType!.name === 'writeLadder') first = Math.min(first, seconds(e.eventTime));
    }
    if (e.activityTaskStartedEventAttributes)
      started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), seconds(e.eventTime));
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (done && ['runLadderRung', 'runLadderLane'].includes(types.get(Number(done.scheduledEventId))!)) {
      last = Math.max(last, seconds(e.eventTime));
      rungS += seconds(e.eventTime) - (started.get(Number(done.scheduledEventId)) ?? seconds(e.eventTime));
    }
  }
  return { wallS: last > first ? last - first : 0, rungS };
}

/** The ladder's fits on two cores: its lanes' CPU seconds, the lanes taken two at a time as they start. */
function lanesCpuS(ladder: RungResult[]): number {
  const lanes = ladderLanes(ladder.map((r) => r.rung)).map((lane) =>
    lane.reduce((sum, rung) => sum + (ladder.find((r) => r.rung === rung)?.cpuMs ?? 0) / 1000, 0),
  );
  let [a, b] = [0, 0];
  for (const s of lanes)
    if (a <= b) a += s;
    else b += s;
  return Math.max(a, b);
}

async function dataset(name: string, cacheDir: string): Promise<string> {
  if (name !== 'flights-10k') return exampleDatasetPath(name, cacheDir);
  const lines = readFileSync(await exampleDatasetPath('flights-100k', cacheDir), 'utf8').split('\n');
  const file = join(cacheDir, 'flights-10k.csv');
  writeFileSync(file, `${lines.slice(0, 10_001).join('\n')}\n`);
  return file;
}

async function main() {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : ['boston-housing', 'cars', 'flights-10k'];
  const { client, config, stop } = await startEmbedded(['control', 'llm', 'cpu']);
  const f = (v: number) => v.toFixed(1).padStart(9);
  console.log(`ladder cost per forged task (first proposal), cpu concurrency ${config.workers.cpuConcurrency}`);
  console.log(
    `${'task'.padEnd(34)} ${'rows'.padStart(6)} ${'rungs'.padStart(7)} ${'ladder s'.padStart(9)} ${'rung-s'.padStart(9)} ${'baseline s'.padStart(10)} ${'ratio'.padStart(7)} ${'entries'.padStart(7)} ${'distinct'.padStart(8)} ${'baseline HR'.padStart(11)} ${'trivial last'.padStart(12)}`,
  );
  for (const name of names) {
    const result = await client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId: `bench-ladder-${name}-${Date.now()}`,
      args: [
        {
          dataset: await dataset(name, join(config.paths.home, 'examples')),
          name,
          catalogDir: config.paths.catalog,
          maxTasks: 1,
          repairRounds: 1,
          concurrency: 1,
          ladder: true,
        },
      ],
    });
    for (const task of result.tasks) {
      const report = JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8'));
      const detail = report.checks.find((c: { name: string }) => c.name === 'baseline.runs')?.detail ?? '';
      const baselineS = Number(/finished in ([\d.]+) s/.exec(detail)?.[1] ?? NaN);
      const ladder = (report.ladder ?? []) as RungResult[];
      const valid = ladder.filter((r) => r.score !== undefined && !r.error).length;
      const rows = readFileSync(join(task.path, 'public', 'train.csv'), 'utf8').split('\n').length - 2;
      const { wallS, rungS } = await ladderTiming(client, `${result.workflowId}--${task.id}`);
      // the board's shape: reference entries, distinct scores, where the baseline and the trivial entry rank
      const { metric } = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8')) as TaskManifest;
      const board = (await readLeaderboard(task.path)).filter((r) => r.kind === 'reference');
      const scores = board.map((r) => Number(r.score));
      const rank = (entry: string) => humanRank(Number(board.find((r) => r.entry === entry)?.score), scores, metric);
      const trivialLast = scores.every((s) => humanRank(s, scores, metric) >= rank('trivial'));
      console.log(
        `${task.id.slice(0, 34).padEnd(34)} ${String(rows).padStart(6)} ${`${valid}/${ladder.length}`.padStart(7)} ${f(wallS)} ${f(rungS)} ${f(baselineS).padStart(10)} ${(wallS / baselineS).toFixed(1).padStart(7)} ${String(board.length).padStart(7)} ${String(new Set(scores).size).padStart(8)} ${rank('baseline').toFixed(3).padStart(11)} ${String(trivialLast).padStart(12)}`,
      );
      const slowest = [...ladder].sort((a, b) => (b.cpuMs ?? 0) - (a.cpuMs ?? 0)).slice(0, 6);
      const cpuS = ladder.reduce((sum, r) => sum + (r.cpuMs ?? 0), 0) / 1000;
      const laneS = lanesCpuS(ladder);
      console.log(
        `  rungs' CPU ${cpuS.toFixed(1)} s; on 2 quiet cores the ladder needs about ${laneS.toFixed(1)} s of fits ` +
          `(its lanes' CPU, two at a time) plus ${LADDER_WINDOW * 2} container starts`,
      );
      console.log(`  most CPU: ${slowest.map((r) => `${r.rung} ${((r.cpuMs ?? 0) / 1000).toFixed(1)} s`).join(', ')}`);
      const off = ladder.filter((r) => r.error);
      if (off.length) console.log(`  off the board: ${off.map((r) => `${r.rung}: ${r.error}`).join('; ')}`);
    }
  }
  console.log(
    'ladder s = wall time of the whole ladder; rung-s = its activities summed (each lane: a run and a grading container)',
  );
  console.log('baseline s = the baseline solution run once (verification.json); ratio = ladder s / baseline s');
  await stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
