import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Modality } from '../../domain/task';
import { ImportError } from './import-error';
import { SOURCE_NAMES, type SourceKind } from './types';

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.gif', '.webp', '.dcm']);
const AUDIO = new Set(['.wav', '.mp3', '.flac', '.aif', '.aiff', '.ogg']);
const TABLE = new Set(['.csv', '.tsv', '.parquet', '.json', '.jsonl']);
const MAX_WALKED = 20_000;
/** CSV files over this size are not read for the target's values. */
const MAX_PROFILED_BYTES = 50 * 1024 * 1024;

/**
 * The competition's raw data folder: `rawDir`, else <competitionDir>/raw. An ImportError when it is
 * missing or empty, saying where the data comes from (the benchmarks ship none).
 */
export async function resolveRawDir(
  competitionDir: string,
  source: { kind: SourceKind; competitionId: string },
  rawDir?: string,
): Promise<string> {
  const dir = rawDir ? resolve(rawDir) : join(competitionDir, 'raw');
  const entries = await readdir(dir).catch(() => undefined);
  if (!entries) {
    if (rawDir) {
      throw new ImportError(
        `raw data folder ${dir} does not exist or is not a folder: ` +
          "pass the folder holding the competition's raw files (what Kaggle ships, unpacked)",
      );
    }
    throw new ImportError(
      `${SOURCE_NAMES[source.kind]} competition folders do not ship data, and ${competitionDir} has no raw/ folder: ` +
        `download the competition's files (kaggle competitions download -c ${source.competitionId}), ` +
        'unpack them into a folder and pass it as the raw data folder (--raw, or rawDir)',
    );
  }
  if (entries.length === 0) {
    throw new ImportError(
      `raw data folder ${dir} is empty: put the competition's raw files (what Kaggle ships, unpacked) in it`,
    );
  }
  return dir;
}

/** Files under dir (depth-first, at most MAX_WALKED), as paths. */
export async function listRawFiles(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (out.length >= MAX_WALKED) break;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listRawFiles(path, out);
    else out.push(path);
  }
  return out;
}

/** 'image' or 'audio' when the raw data is mostly such files, else 'tabular'. */
export function inferModality(files: string[]): Modality {
  const count = (kinds: Set<string>) => files.filter((f) => kinds.has(extname(f).toLowerCase())).length;
  const [images, audio, tables] = [count(IMAGE), count(AUDIO), count(TABLE)];
  if (images > tables && images >= audio) return 'image';
  if (audio > tables) return 'audio';
  return 'tabular';
}

/** How many distinct values `target` takes in the first raw CSV file that has it (small files only). */
export async function distinctTargetValues(files: string[], target: string): Promise<number | undefined> {
  for (const file of files.filter((f) => extname(f).toLowerCase() === '.csv')) {
    if ((await stat(file)).size > MAX_PROFILED_BYTES) continue;
    const text = await readFile(file, 'utf8');
    const header = text
      .split('\n', 1)[0]!
      .split(',')
      .map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (!header.includes(target)) continue;
    try {
      const options = { columns: true, skip_empty_lines: true, relax_column_count: true } as const;
      const rows = parse(text, options) as Record<string, string>[];
      return new Set(rows.map((r) => r[target]).filter((v) => v !== undefined && v !== '')).size;
    } catch {
      continue; // not a clean CSV: look elsewhere
    }
  }
  return undefined;
}
