import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Leaderboard } from '../domain/env';
import { type MedalThresholds, thresholdLadder } from '../domain/rewards';
import { packagePaths } from './layout';

/**
 * One row of leaderboard.csv: `entry,score,kind[,board]`. Kinds: `human` (an entry of an imported
 * competition, on its `board`, public or private), `reference` (trivial and baseline, as
 * verification scored them), `threshold` (a synthetic task's gold, silver, bronze and median).
 */
export interface LeaderboardRow {
  entry: string;
  /** as its source wrote it */
  score: string;
  kind: 'human' | 'reference' | 'threshold' | (string & {});
  board?: string;
}

export function parseLeaderboard(csv: string): LeaderboardRow[] {
  const records = parse(csv, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
    relax_column_count: true,
  }) as Record<string, string>[];
  return records.map((r) => ({
    entry: r.entry ?? '',
    score: r.score ?? '',
    kind: r.kind ?? '',
    ...(r.board ? { board: r.board } : {}),
  }));
}

const cell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** The CSV text; the board column only when some row has a board. */
export function formatLeaderboard(rows: LeaderboardRow[]): string {
  const boards = rows.some((r) => r.board !== undefined);
  const header = boards ? 'entry,score,kind,board' : 'entry,score,kind';
  const lines = rows.map((r) => [cell(r.entry), r.score, r.kind, ...(boards ? [cell(r.board ?? '')] : [])].join(','));
  return `${[header, ...lines].join('\n')}\n`;
}

/** The package's leaderboard rows; none when it has no leaderboard.csv. */
export async function readLeaderboard(packageDir: string): Promise<LeaderboardRow[]> {
  const text = await readFile(packagePaths(packageDir).leaderboard, 'utf8').catch(() => '');
  return text ? parseLeaderboard(text) : [];
}

export async function writeLeaderboard(packageDir: string, rows: LeaderboardRow[]): Promise<void> {
  await writeFile(packagePaths(packageDir).leaderboard, formatLeaderboard(rows));
}

/**
 * Writes the reference scores verification measured (and a synthetic task's medal thresholds),
 * after the human entries the leaderboard already has, which are kept as they were.
 */
export async function recordReferenceScores(
  packageDir: string,
  scores: Record<string, number | undefined>,
  thresholds?: MedalThresholds,
): Promise<void> {
  const human = (await readLeaderboard(packageDir))
    .filter((r) => r.kind === 'human')
    .map((r) => ({ ...r, board: r.board || 'public' }));
  const reference = Object.entries(scores).flatMap(([entry, s]) =>
    s === undefined ? [] : [{ entry, score: String(s), kind: 'reference' }],
  );
  const medals = Object.entries(thresholds ?? {}).map(([entry, s]) => ({ entry, score: String(s), kind: 'threshold' }));
  await writeLeaderboard(packageDir, [...human, ...reference, ...medals]);
}

/**
 * The boards rewards rank against. Human entries make the boards, one per board. Without any, a
 * synthetic task's medal thresholds (gold, silver, bronze, median) make one board, `thresholds`,
 * whose medal thresholds are exactly those (see thresholdLadder); else the reference entries
 * (trivial, baseline) make the `reference` board. Rows without a numeric score are ignored.
 */
export function leaderboardsOf(rows: LeaderboardRow[]): Leaderboard[] {
  const scored = rows.filter((r) => r.score !== '' && Number.isFinite(Number(r.score)));
  const human = scored.filter((r) => r.kind === 'human');
  const threshold = (entry: string) => scored.find((r) => r.kind === 'threshold' && r.entry === entry);
  const [gold, silver, bronze, median] = ['gold', 'silver', 'bronze', 'median'].map((e) => threshold(e));
  if (human.length === 0 && gold && silver && bronze && median) {
    const trivial = scored.find((r) => r.kind === 'reference' && r.entry === 'trivial') ?? median;
    const t = {
      gold: Number(gold.score),
      silver: Number(silver.score),
      bronze: Number(bronze.score),
      median: Number(median.score),
    };
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

/** leaderboardsOf the CSV text. */
export function parseLeaderboards(csv: string): Leaderboard[] {
  return leaderboardsOf(parseLeaderboard(csv));
}

/** The boards of the package's leaderboard.csv; none without one. */
export async function readLeaderboards(packageDir: string): Promise<Leaderboard[]> {
  return leaderboardsOf(await readLeaderboard(packageDir));
}
