import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Leaderboard, TaskInfo } from '../../domain/env';
import { thresholdLadder } from '../../domain/rewards';
import { profileTable } from '../intake/profile';
import { readTable } from '../intake/read-table';
import { readManifest } from '../verification';

const MAX_DESCRIPTION = 20_000;
const SAMPLE_LINES = 6;
/** train.csv is profiled only up to this size; bigger ones list no columns (the agent can look itself) */
const MAX_PROFILED_BYTES = 64 * 1024 * 1024;

/** A task that cannot be played: the message says what is missing and what to do. */
export class BadTaskError extends Error {
  override name = 'BadTaskError';
}

/**
 * leaderboard.csv: `entry,score,kind[,board]`. Human entries (imported from a competition) make
 * the leaderboards, one per board. Without any, a synthetic task's medal thresholds (kind
 * `threshold`: entries gold, silver, bronze, median) make one board, `thresholds`, whose medal
 * thresholds are exactly those (see thresholdLadder); else the reference entries (trivial,
 * baseline) make the `reference` board.
 */
export function parseLeaderboards(csv: string): Leaderboard[] {
  const rows = parse(csv, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  const scored = rows.filter((r) => r.score !== undefined && r.score !== '' && Number.isFinite(Number(r.score)));
  const human = scored.filter((r) => r.kind === 'human');
  const threshold = (entry: string) => scored.find((r) => r.kind === 'threshold' && r.entry === entry);
  const [gold, silver, bronze, median] = ['gold', 'silver', 'bronze', 'median'].map((e) => threshold(e));
  if (human.length === 0 && gold && silver && bronze && median) {
    const trivial = scored.find((r) => r.kind === 'reference' && r.entry === 'trivial') ?? median;
    const t = { gold: Number(gold.score), silver: Number(silver.score), bronze: Number(bronze.score), median: Number(median.score) };
    return [{ name: 'thresholds', scores: thresholdLadder(t, Number(trivial.score)) }];
  }
  const chosen = human.length > 0 ? human : scored.filter((r) => r.kind !== 'threshold');
  const boards = new Map<string, number[]>();
  for (const r of chosen) {
    const name = human.length > 0 ? r.board || 'public' : 'reference';
    boards.set(name, [...(boards.get(name) ?? []), Number(r.score)]);
  }
  return [...boards].map(([name, scores]) => ({ name, scores }));
}

/** The public facts of a published task, as the session reads them once when it opens. */
export async function readTaskInfo(taskId: string, packageDir: string): Promise<TaskInfo> {
  if (!existsSync(join(packageDir, 'task.json'))) throw new BadTaskError(`no task "${taskId}" in the catalog (${packageDir} has no task.json): list the tasks with \`anvil tasks list\` or GET /v1/tasks`);
  const manifest = await readManifest(packageDir);
  const publicDir = join(packageDir, 'public');
  if (!existsSync(join(packageDir, 'private', 'answers.csv')) || !existsSync(publicDir)) {
    throw new BadTaskError(`task "${taskId}" at ${packageDir} has no public/ data or private/answers.csv: verify it first (\`anvil verify ${packageDir}\`) or publish it through the Forge or \`anvil import\``);
  }
  const files = await Promise.all((await readdir(publicDir)).sort().map(async (name) => ({ name, bytes: (await stat(join(publicDir, name))).size })));
  const train = files.find((f) => f.name === 'train.csv');
  let columns: TaskInfo['columns'] = [];
  let trainRows: number | undefined;
  if (train && train.bytes <= MAX_PROFILED_BYTES) {
    const { table } = await readTable(join(publicDir, 'train.csv'));
    const profile = profileTable(table);
    trainRows = profile.rows;
    columns = profile.columns.map(({ name, kind, missing, distinct, top, stats }) => ({ name, kind, missing, distinct, top: top?.slice(0, 10), stats }));
  }
  const sample = await readFile(join(publicDir, 'sample_submission.csv'), 'utf8').catch(() => '');
  const leaderboardCsv = await readFile(join(packageDir, 'leaderboard.csv'), 'utf8').catch(() => '');
  return {
    taskId,
    packageDir,
    title: manifest.title,
    taskType: manifest.taskType,
    target: manifest.target,
    idColumn: manifest.idColumn,
    metric: manifest.metric,
    resources: { cpus: manifest.resources.cpus, memoryMb: manifest.resources.memoryMb, gpu: manifest.resources.gpu, timeLimitS: manifest.resources.timeLimitS },
    description: (await readFile(join(packageDir, 'description.md'), 'utf8').catch(() => '')).slice(0, MAX_DESCRIPTION),
    files,
    columns,
    trainRows,
    sampleSubmission: sample.split('\n').slice(0, SAMPLE_LINES).join('\n'),
    leaderboards: leaderboardCsv ? parseLeaderboards(leaderboardCsv) : [],
  };
}
