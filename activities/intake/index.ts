import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { ColumnProfile, DatasetProfile, ImageSet, IntakeResult } from '../../domain/profile';
import { readDocumentation } from './documentation';
import { canonicalImages, copyImages, type LabelledImage, readImageFolder } from './images';
import { profileTable } from './profile';
import { BadDatasetError, type Cell, readTable, resolveDataFiles, type Table } from './read-table';

/** Control-queue activity: a raw dataset in, its canonical CSV and profile in the artifact store out. */
export function createIntakeActivities({ artifactsDir, maxDatasetMb }: { artifactsDir: string; maxDatasetMb: number }) {
  return {
    /** The profile itself can outgrow a Temporal payload, so it is returned by path (profileFile). */
    async intakeDataset(input: { path: string; name?: string }): Promise<IntakeResult> {
      try {
        return await intake(input, artifactsDir, maxDatasetMb);
      } catch (err) {
        if (err instanceof BadDatasetError) throw ApplicationFailure.nonRetryable(err.message, 'BadDataset');
        if (err instanceof NoUsableTargetError) throw ApplicationFailure.nonRetryable(err.message, 'NoUsableTarget');
        throw err;
      }
    },
  };
}

export type IntakeActivities = ReturnType<typeof createIntakeActivities>;

/**
 * Reads and profiles the dataset, then stores it content-addressed as
 * `<artifactsDir>/datasets/<name>-<sha256 of the canonical CSV, 12 hex>/{data.csv,profile.json}`;
 * a folder that already holds both files is reused as is.
 */
async function intake(
  { path, name }: { path: string; name?: string },
  artifactsDir: string,
  maxDatasetMb: number,
): Promise<IntakeResult> {
  const images = await readImageFolder(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // resolveDataFiles says it better
    throw err;
  });
  if (images) return intakeImages({ path, name }, images, artifactsDir, maxDatasetMb);
  const { files } = await resolveDataFiles(path);
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const bytes = sizes.reduce((a, b) => a + b, 0);
  if (bytes > maxDatasetMb * 1024 * 1024) {
    throw new BadDatasetError(
      `${path} is ${(bytes / 1024 / 1024).toFixed(1)} MB, over the ${maxDatasetMb} MB limit (forge.maxDatasetMb); raise ANVIL_FORGE_MAX_DATASET_MB or give a sample of the data`,
    );
  }
  const { table, format } = await readTable(path, { maxBytes: maxDatasetMb * 1024 * 1024 });
  const documentation = await readDocumentation(path);
  const profiled = profileTable(table, documentation);
  if (profiled.candidateTargets.length === 0) throw new NoUsableTargetError(path, profiled.columns);
  const slug = slugify(name ?? basename(path, extname(path)));
  const hash = createHash('sha256');
  for (const chunk of csvChunks(table)) hash.update(chunk);
  const dir = join(artifactsDir, 'datasets', `${slug}-${hash.digest('hex').slice(0, 12)}`);
  const dataFile = join(dir, 'data.csv');
  const profileFile = join(dir, 'profile.json');
  const result: IntakeResult = {
    name: slug,
    profileFile,
    rows: table.rows,
    columns: table.columns.length,
    candidateTargets: profiled.candidateTargets.length,
  };
  if ((await exists(dataFile)) && (await exists(profileFile))) return result;
  const source = {
    files: await Promise.all(files.map(async (f, i) => ({ path: f, sha256: await sha256File(f), bytes: sizes[i]! }))),
    format,
  };
  const profile: DatasetProfile = {
    name: slug,
    source,
    dataFile,
    ...profiled,
    ...(documentation ? { documentation } : {}),
  };
  await mkdir(dir, { recursive: true });
  await writeAtomically(dataFile, csvChunks(table));
  await writeAtomically(profileFile, [JSON.stringify(profile, null, 2) + '\n']);
  return result;
}

/** An image folder: the images stored content-addressed beside data.csv (image, label), and its profile. */
async function intakeImages(
  { path, name }: { path: string; name?: string },
  { images, layout }: { images: LabelledImage[]; layout: ImageSet['layout'] },
  artifactsDir: string,
  maxDatasetMb: number,
): Promise<IntakeResult> {
  const { table, sources, bytes } = await canonicalImages(path, images);
  if (bytes > maxDatasetMb * 1024 * 1024)
    throw new BadDatasetError(
      `${path} holds ${(bytes / 1024 / 1024).toFixed(1)} MB of images, over the ${maxDatasetMb} MB limit (forge.maxDatasetMb); raise ANVIL_FORGE_MAX_DATASET_MB or give a sample of the images`,
    );
  const documentation = await readDocumentation(path);
  const labels = profileTable(table, documentation).columns.find((c) => c.name === 'label')!;
  if (labels.distinct < 2)
    throw new NoUsableTargetError(path, [{ ...labels, notTarget: 'a single label for every image' }]);
  const slug = slugify(name ?? basename(path, extname(path)));
  const hash = createHash('sha256');
  for (const chunk of csvChunks(table)) hash.update(chunk);
  const digest = hash.digest('hex');
  const dir = join(artifactsDir, 'datasets', `${slug}-${digest.slice(0, 12)}`);
  const dataFile = join(dir, 'data.csv');
  const profileFile = join(dir, 'profile.json');
  const result: IntakeResult = { name: slug, profileFile, rows: table.rows, columns: 2, candidateTargets: 1 };
  if ((await exists(dataFile)) && (await exists(profileFile))) return result;
  const profile: DatasetProfile = {
    name: slug,
    source: { files: [{ path, sha256: digest, bytes }], format: 'images' },
    dataFile,
    rows: table.rows,
    columns: [
      { name: 'image', kind: 'id', missing: 0, distinct: sources.size, notTarget: 'the image file' },
      { ...labels, kind: 'categorical' },
    ],
    candidateTargets: [
      {
        column: 'label',
        taskType: labels.distinct === 2 ? 'binary-classification' : 'multiclass-classification',
        score: 1,
        reason: layout === 'class-folders' ? 'the class folder each image lies in' : "the labels table's label",
        outcome: true,
      },
    ],
    idColumns: [],
    timeColumns: [],
    textColumns: [],
    leakageSuspects: [],
    keyColumns: [],
    images: { column: 'image', count: sources.size, layout },
    ...(documentation ? { documentation } : {}),
  };
  await copyImages(sources, dir);
  await writeAtomically(dataFile, csvChunks(table));
  await writeAtomically(profileFile, [JSON.stringify(profile, null, 2) + '\n']);
  return result;
}

/** The data was read, but no column is worth a task: the message gives each column's reason. */
export class NoUsableTargetError extends Error {
  override name = 'NoUsableTargetError';
  constructor(path: string, columns: ColumnProfile[]) {
    super(
      `${path} has no usable target column, so no task is worth publishing: ` +
        columns.map((c) => `"${c.name}" is ${c.notTarget ?? 'not a target'}`).join('; ') +
        '. Add the outcome the data was collected to predict (a label or a measured result)',
    );
  }
}

/** Lowercase letters, digits and dashes (task ids are built from it). */
function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  return slug.length >= 2 ? slug : 'dataset';
}

/** The canonical CSV: comma, header, RFC-4180 quoting, missing = empty, in ~64 KiB chunks. */
function* csvChunks(table: Table): Generator<string> {
  let chunk = table.columns.map(csvField).join(',') + '\n';
  for (let r = 0; r < table.rows; r++) {
    chunk += table.values.map((column) => csvField(column[r] ?? null)).join(',') + '\n';
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

function csvField(value: Cell): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Written under a temporary name in the same folder, then renamed: readers never see half a file. */
async function writeAtomically(file: string, chunks: Iterable<string>) {
  const temp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temp, chunks);
  await rename(temp, file);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
