import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Leaderboard } from '../domain/env';
import { rungEntry, type RungResult, validRungs } from '../domain/ladder';
import { type MedalThresholds, thresholdLadder } from '../domain/rewards';
import { BadPackageError } from './errors';
import { packagePaths } from './layout';

/** The kinds of leaderboard.csv rows; any other is an error. */
export const LEADERBOARD_KINDS = ['human', 'reference', 'threshold'] as const;
/** The board of an imported or synthetic task's reference ladder (a forged task's ladder is its only board). */
export const LADDER_BOARD = 'ladder';

/**
 * One row of leaderboard.csv: `entry,score,kind[,board]`. Kinds: `human` (an entry of an imported
 * competition, on its `board`, public or private), `reference` (trivial, baseline and the reference
 * ladder's rungs `ladder/<rung>`, as verification scored them), `threshold` (a synthetic task's
 * gold, silver, bronze and median).
 */
export interface LeaderboardRow {
  entry: string;
  /** as its source wrote it: always a finite number */
  score: string;
  kind: (typeof LEADERBOARD_KINDS)[number];
  board?: string;
}

/** The rows of leaderboard.csv text; a non-numeric score or an unknown kind throws, naming `source` and the line. */
export function parseLeaderboard(csv: string, source = 'leaderboard.csv'): LeaderboardRow[] {
  const records = parse(csv, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
    relax_column_count: true,
    info: true,
  }) as { record: Record<string, string>; info: { lines: number } }[];
  return records.map(({ record: r, info }) => {
    const where = `${source} line ${info.lines}`;
    const score = r.score ?? '';
    if (score === '' || !Number.isFinite(Number(score)))
      throw new BadPackageError(
        `${where}: score ${JSON.stringify(score)} is not a number: give every entry a finite numeric score, or remove the row`,
      );
    const kind = r.kind ?? '';
    if (!(LEADERBOARD_KINDS as readonly string[]).includes(kind))
      throw new BadPackageError(
        `${where}: unknown kind ${JSON.stringify(kind)}: use one of ${LEADERBOARD_KINDS.join(', ')}`,
      );
    return {
      entry: r.entry ?? '',
      score,
      kind: kind as LeaderboardRow['kind'],
      ...(r.board ? { board: r.board } : {}),
    };
  });
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
  const file = packagePaths(packageDir).leaderboard;
  const text = await readFile(file, 'utf8').catch(() => '');
  return text ? parseLeaderboard(text, file) : [];
}

export async function writeLeaderboard(packageDir: string, rows: LeaderboardRow[]): Promise<void> {
  await writeFile(packagePaths(packageDir).leaderboard, formatLeaderboard(rows));
}

/**
 * Writes the reference scores verification measured (trivial, baseline and the ladder's rungs, and
 * a synthetic task's medal thresholds), after the human entries the leaderboard already has, which
 * are kept as they were. Beside human entries or thresholds, the reference entries form a second
 * board, `ladder`, once there is a ladder.
 */
export async function recordReferenceScores(
  packageDir: string,
  scores: Record<string, number | undefined>,
  thresholds?: MedalThresholds,
  ladder: RungResult[] = [],
): Promise<void> {
  const human = (await readLeaderboard(packageDir))
    .filter((r) => r.kind === 'human')
    .map((r) => ({ ...r, board: r.board || 'public' }));
  const rungs = Object.fromEntries(validRungs(ladder).map((r) => [rungEntry(r.rung), r.score]));
  const board = validRungs(ladder).length > 0 && (human.length > 0 || thresholds) ? { board: LADDER_BOARD } : {};
  const reference = Object.entries({ ...scores, ...rungs }).flatMap(([entry, s]) =>
    s === undefined ? [] : [{ entry, score: String(s), kind: 'reference' as const, ...board }],
  );
  const medals = Object.entries(thresholds ?? {}).map(([entry, s]) => ({
    entry,
    score: String(s),
    kind: 'threshold' as const,
  }));
  await writeLeaderboard(packageDir, [...human, ...reference, ...medals]);
}

/**
 * The boards rewards rank against. Human entries make the boards, one per board. Without any, a
 * synthetic task's medal thresholds (gold, silver, bronze, median) make one board, `thresholds`,
 * whose medal thresholds are exactly those (see thresholdLadder); else the reference entries
 * (trivial, baseline, the reference ladder) make the `reference` board. Reference entries on the
 * `ladder` board follow human or threshold boards as a last board (medals stay on the first).
 */
export function leaderboardsOf(rows: LeaderboardRow[]): Leaderboard[] {
  const human = rows.filter((r) => r.kind === 'human');
  const laddered = rows.filter((r) => r.kind === 'reference' && r.board === LADDER_BOARD);
  const ladder = laddered.length > 0 ? [{ name: LADDER_BOARD, scores: laddered.map((r) => Number(r.score)) }] : [];
  const threshold = (entry: string) => rows.find((r) => r.kind === 'threshold' && r.entry === entry);
  const [gold, silver, bronze, median] = ['gold', 'silver', 'bronze', 'median'].map((e) => threshold(e));
  if (human.length === 0 && gold && silver && bronze && median) {
    const trivial = rows.find((r) => r.kind === 'reference' && r.entry === 'trivial') ?? median;
    const t = {
      gold: Number(gold.score),
      silver: Number(silver.score),
      bronze: Number(bronze.score),
      median: Number(median.score),
    };
    return [{ name: 'thresholds', scores: thresholdLadder(t, Number(trivial.score)) }, ...ladder];
  }
  if (human.length === 0) {
    const reference = rows.filter((r) => r.kind === 'reference');
    return reference.length > 0 ? [{ name: 'reference', scores: reference.map((r) => Number(r.score)) }] : [];
  }
  const boards = new Map<string, number[]>();
  for (const r of human) boards.set(r.board || 'public', [...(boards.get(r.board || 'public') ?? []), Number(r.score)]);
  return [...[...boards].map(([name, scores]) => ({ name, scores })), ...ladder];
}

/** leaderboardsOf the CSV text. */
export function parseLeaderboards(csv: string, source?: string): Leaderboard[] {
  return leaderboardsOf(parseLeaderboard(csv, source));
}

/** The boards of the package's leaderboard.csv; none without one. */
export async function readLeaderboards(packageDir: string): Promise<Leaderboard[]> {
  return leaderboardsOf(await readLeaderboard(packageDir));
}
