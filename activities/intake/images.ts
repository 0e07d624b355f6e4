import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, sep } from 'node:path';
import type { ImageSet } from '../../domain/profile';
import { BadDatasetError, readTable, type Table } from './read-table';

/** The image files intake takes (decoded by Pillow in the sandbox). */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']);
/** the folder, beside data.csv, that holds a dataset's images (and a package's raw/ images) */
export const IMAGES_DIR = 'images';
const TABLE_EXTENSIONS = new Set(['.csv', '.tsv', '.txt']);
/** column names a labels table gives its label (else its last column that is not the file) */
const LABEL_NAMES = /^(label|labels|class|category|target|y|species|digit)$/i;
/** a labels table names at least this share of its rows' images */
const MATCH_SHARE = 0.9;

/** One image of the dataset and its label. */
export interface LabelledImage {
  file: string;
  label: string;
}

const isImage = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

/** Every regular file under dir (not following links), as paths relative to it, sorted; hidden ones left out. */
async function walk(dir: string, depth = 3): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => !e.name.startsWith('.'))
      .map(async (e) => {
        if (e.isFile()) return [e.name];
        if (e.isDirectory() && depth > 0) return (await walk(join(dir, e.name), depth - 1)).map((p) => join(e.name, p));
        return [];
      }),
  );
  return nested.flat().sort();
}

/**
 * The labelled images of a folder, or undefined when it is no image dataset (a folder of tables).
 * Two layouts: a labels table beside the images (a column naming each image's file, and a label
 * column), or one sub-folder per class.
 */
export async function readImageFolder(
  path: string,
): Promise<{ images: LabelledImage[]; layout: ImageSet['layout'] } | undefined> {
  if (!(await stat(path)).isDirectory()) return undefined;
  const files = await walk(path);
  const images = files.filter(isImage);
  if (images.length === 0) return undefined;
  const tables = files.filter((f) => !f.includes(sep) && TABLE_EXTENSIONS.has(extname(f).toLowerCase()));
  for (const table of tables) {
    const labelled = fromLabelsTable((await readTable(join(path, table))).table, images, path, table);
    if (labelled) return { images: labelled, layout: 'labels-table' };
  }
  const inClassFolders = images.filter((f) => f.split(sep).length === 2);
  if (inClassFolders.length < images.length * MATCH_SHARE)
    throw new BadDatasetError(
      `${path} holds ${images.length} images but neither a labels table naming them (${tables.join(', ') || 'no table'}) nor one sub-folder per class; add labels.csv with a file and a label column, or move each image into a folder named after its class`,
    );
  return {
    images: inClassFolders.map((file) => ({ file, label: file.split(sep)[0]! })),
    layout: 'class-folders',
  };
}

/** The table's rows as labelled images, when one of its columns names the images (by path or file name). */
function fromLabelsTable(table: Table, images: string[], path: string, name: string): LabelledImage[] | undefined {
  const byPath = new Map(images.map((f) => [f, f]));
  const byName = new Map(images.map((f) => [basename(f), f]));
  const resolve = (cell: string | null) =>
    cell === null ? undefined : (byPath.get(cell) ?? byName.get(basename(cell)));
  const fileColumn = table.columns.findIndex(
    (_, c) => table.values[c]!.filter((v) => resolve(v)).length >= table.rows * MATCH_SHARE,
  );
  if (fileColumn < 0) return undefined;
  const others = table.columns.map((n, c) => ({ n, c })).filter(({ c }) => c !== fileColumn);
  const label = others.find(({ n }) => LABEL_NAMES.test(n)) ?? others.at(-1);
  if (!label)
    throw new BadDatasetError(`${join(path, name)} names the images but has no label column; add one (e.g. "label")`);
  const rows: LabelledImage[] = [];
  for (let r = 0; r < table.rows; r++) {
    const file = resolve(table.values[fileColumn]![r] ?? null);
    const value = table.values[label.c]![r];
    if (file && value !== null && value !== undefined) rows.push({ file, label: value });
  }
  return rows;
}

/**
 * The canonical table (image, label) with content-addressed image names (so no original file
 * name, which may spell the label, travels on), and where each named image comes from.
 */
export async function canonicalImages(
  path: string,
  images: LabelledImage[],
): Promise<{ table: Table; sources: Map<string, string>; bytes: number }> {
  const sources = new Map<string, string>();
  const stored: string[] = [];
  let bytes = 0;
  for (const { file } of images) {
    const content = await readFile(join(path, file));
    bytes += content.length;
    const name = `${IMAGES_DIR}/${createHash('sha256').update(content).digest('hex').slice(0, 16)}${extname(file).toLowerCase()}`;
    sources.set(name, join(path, file));
    stored.push(name);
  }
  const table = { columns: ['image', 'label'], values: [stored, images.map((i) => i.label)], rows: images.length };
  return { table, sources, bytes };
}

/** Copies the images into the dataset's folder under their canonical names. */
export async function copyImages(sources: Map<string, string>, datasetDir: string): Promise<void> {
  await mkdir(join(datasetDir, IMAGES_DIR), { recursive: true });
  for (const [name, source] of sources) await copyFile(source, join(datasetDir, name));
}
