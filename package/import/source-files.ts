import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ImportError } from './import-error';
import { SOURCE_NAMES, type SourceKind } from './types';

/** A file of the competition folder, or an ImportError naming it and what to do. */
export async function readSourceFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new ImportError(
      `${what} not found: no ${path}. Pass the competition's own folder (the one holding ${basename(path)})`,
    );
  }
}

const isFile = async (path: string) => (await stat(path).catch(() => undefined))?.isFile() ?? false;
const isFolder = async (path: string) => (await stat(path).catch(() => undefined))?.isDirectory() ?? false;

/** The first of `candidates` (paths) that is a file, or undefined. */
export async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const path of candidates) if (await isFile(path)) return path;
  return undefined;
}

/** Where a competition folder lives in a checkout of each benchmark. */
const FOLDERS: Record<SourceKind, string> = {
  'mle-bench': 'mlebench/competitions/<id>',
  'mle-dojo': 'mledojo/competitions/<name>',
};

/**
 * Refuses a folder that is not a competition folder of `kind` before anything is read: `required`
 * lists its files, each as alternatives (any one will do). The message names every missing file
 * and what to pass; `other` names the other benchmark and a file that marks its folders.
 */
export async function requireCompetitionFolder(
  dir: string,
  kind: SourceKind,
  required: string[][],
  other: { kind: SourceKind; marker: string },
): Promise<void> {
  const what = `an ${SOURCE_NAMES[kind]} competition folder`;
  if (!(await isFolder(dir))) {
    const holding = required.map((r) => r[0]).join(', ');
    throw new ImportError(`${dir} is not a folder: pass ${what}, ${FOLDERS[kind]} of a checkout (it holds ${holding})`);
  }
  const missing: string[] = [];
  for (const alternatives of required) {
    if (!(await firstExisting(alternatives.map((f) => join(dir, f))))) missing.push(alternatives.join(' or '));
  }
  if (missing.length === 0) return;
  const todo = (await isFile(join(dir, other.marker)))
    ? `It looks like ${SOURCE_NAMES[other.kind]}'s: run \`anvil import ${other.kind}\` on it`
    : `Pass ${FOLDERS[kind]} of an ${SOURCE_NAMES[kind]} checkout`;
  throw new ImportError(`${dir} is not ${what}: it has no ${missing.join(', ')}. ${todo}`);
}

/** Rows of a CSV file as records; refuses Git LFS pointers (a checkout without `git lfs pull`). */
export function parseCsvRecords(text: string, where: string): Record<string, string>[] {
  if (text.startsWith('version https://git-lfs')) {
    throw new ImportError(
      `${where} is a Git LFS pointer, not the file: run \`git lfs pull\` in the benchmark's checkout and import again`,
    );
  }
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (err) {
    throw new ImportError(`${where} is not a readable CSV file (${(err as Error).message}); fix or remove it`);
  }
}
