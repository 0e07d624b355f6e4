import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Leaderboard, TaskInfo } from '../../domain/env';
import { thresholdLadder } from '../../domain/rewards';
import { profileTable, type TableProfile } from '../intake/profile';
import { readTable } from '../intake/read-table';
import { readManifest } from '../verification';

const MAX_DESCRIPTION = 20_000;
const SAMPLE_LINES = 6;
/** train.csv is profiled up to this size; a bigger one from its head */
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

/**
 * The profile of train.csv; a file over MAX_PROFILED_BYTES is profiled from its head (its first
 * complete lines), and its row count is its line count when no field in the head spans lines.
 * Undefined when the head cannot be read as a table.
 */
async function profileTrain(file: string, bytes: number): Promise<{ rows?: number; profiledRows?: number; columns: TableProfile['columns'] } | undefined> {
  if (bytes <= MAX_PROFILED_BYTES) return profileTable((await readTable(file)).table);
  const head = join(await mkdtemp(join(tmpdir(), 'anvil-head-')), 'train.csv');
  try {
    const handle = await open(file);
    const buffer = Buffer.alloc(MAX_PROFILED_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_PROFILED_BYTES, 0).finally(() => handle.close());
    const text = buffer.subarray(0, buffer.lastIndexOf(0x0a, bytesRead - 1) + 1);
    await writeFile(head, text);
    const profile = profileTable((await readTable(head)).table);
    const headLines = text.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
    return { columns: profile.columns, profiledRows: profile.rows, rows: profile.rows === headLines - 1 ? (await lineCount(file)) - 1 : undefined };
  } catch {
    return undefined;
  } finally {
    await rm(dirname(head), { recursive: true, force: true });
  }
}

async function lineCount(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (const b of chunk) if (b === 0x0a) lines += 1;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 0x0a ? lines : lines + 1;
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
  let profiledRows: number | undefined;
  if (train) {
    const profile = await profileTrain(join(publicDir, 'train.csv'), train.bytes);
    trainRows = profile?.rows;
    profiledRows = profile?.profiledRows;
    columns = profile?.columns.map(({ name, kind, missing, distinct, top, stats }) => ({ name, kind, missing, distinct, top: top?.slice(0, 10), stats })) ?? [];
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
    ...(profiledRows === undefined ? {} : { profiledRows }),
    sampleSubmission: sample.split('\n').slice(0, SAMPLE_LINES).join('\n'),
    leaderboards: leaderboardCsv ? parseLeaderboards(leaderboardCsv) : [],
  };
}
