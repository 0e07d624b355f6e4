import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { extname, join, normalize, relative, sep } from 'node:path';
import { inflateSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import type { CheckResult } from '../domain/verification';
import { packagePaths } from '../package/layout';

/** The checks of a task's image files, made on the host from bytes alone (no package code, no decoding). */
export const IMAGE_CHECKS = [
  'images.no_test_in_train',
  'images.no_label_in_names',
  'images.no_label_in_metadata',
] as const;
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']);
/** A name or metadata "gives the label away" when it spells the image's own label this often… */
const LEAK_SHARE = 0.5;
/** …and at least twice as often as it spells another class's label (a token every name has is no leak). */
const LEAK_RATIO = 2;
const MIN_LEAKS = 5;

const tokens = (text: string) =>
  new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean),
  );

/** Regular files under dir whose extension is an image's, relative to it (links are never followed). */
async function imageFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const found = await Promise.all(
    entries.map(async (e) => {
      const path = join(prefix, e.name);
      if (e.isDirectory()) return imageFiles(dir, path);
      return e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()) ? [path] : [];
    }),
  );
  return found.flat();
}

/**
 * The text an image file carries beside its pixels: PNG tEXt, zTXt, iTXt and eXIf chunks; a
 * JPEG's comment and APPn segments (EXIF, XMP) read as Latin-1. Other formats: none.
 */
export function imageMetadata(bytes: Buffer): string[] {
  const texts: string[] = [];
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    for (let at = 8; at + 8 <= bytes.length;) {
      const length = bytes.readUInt32BE(at);
      const type = bytes.toString('latin1', at + 4, at + 8);
      const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
      if (type === 'tEXt' || type === 'iTXt' || type === 'eXIf') texts.push(data.toString('latin1'));
      if (type === 'zTXt') {
        const key = data.indexOf(0);
        let text = '';
        try {
          text = inflateSync(data.subarray(key + 2)).toString('latin1');
        } catch {
          text = ''; // a broken chunk holds nothing readable
        }
        texts.push(data.toString('latin1', 0, key), text);
      }
      at += 12 + length;
    }
  } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff;) {
      const marker = bytes[at + 1]!;
      if (marker === 0xda || marker === 0xd9) break; // image data from here on
      const length = bytes.readUInt16BE(at + 2);
      if (marker === 0xfe || (marker >= 0xe1 && marker <= 0xef))
        texts.push(bytes.toString('latin1', at + 4, at + 2 + length));
      at += 2 + length;
    }
  }
  return texts;
}

function readTable(text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
}

/** A leak verdict: how often the evidence spells the image's own label, against another class's. */
function leakCheck(
  name: (typeof IMAGE_CHECKS)[number],
  what: string,
  rows: { file: string; label: string; texts: string[] }[],
  labels: string[],
): CheckResult {
  const spells = (texts: string[], label: string) => texts.some((t) => tokens(t).has(label.toLowerCase()));
  const own = rows.filter((r) => spells(r.texts, r.label));
  const other = rows.filter((r) => {
    const next = labels[(labels.indexOf(r.label) + 1) % labels.length]!;
    return next !== r.label && spells(r.texts, next);
  });
  const share = rows.length ? own.length / rows.length : 0;
  const otherShare = rows.length ? other.length / rows.length : 0;
  const leaks = own.length >= MIN_LEAKS && share >= LEAK_SHARE && share >= LEAK_RATIO * otherShare;
  const evidence = { share, otherShare, examples: own.slice(0, 5).map((r) => ({ file: r.file, label: r.label })) };
  return leaks
    ? {
        name,
        passed: false,
        detail: `the ${what} of ${own.length} of ${rows.length} test images spell their answer (e.g. ${own[0]!.file} is "${own[0]!.label}"); name each image by a random id and write it again without metadata`,
        evidence,
      }
    : {
        name,
        passed: true,
        detail: `the ${what} of the ${rows.length} test images do not give their answers away`,
        evidence,
      };
}

/**
 * The image checks of a prepared package: no test image repeated (same bytes) among the other
 * public images; neither the test images' file names nor their metadata spell their answers.
 * A package without images under public/ passes them all.
 */
export async function runImageChecks(packageDir: string, idColumn: string, target: string): Promise<CheckResult[]> {
  const paths = packagePaths(packageDir);
  const all = await imageFiles(paths.public);
  if (all.length === 0)
    return IMAGE_CHECKS.map((name) => ({ name, passed: true, detail: 'no image files under public/' }));
  const answers = new Map(readTable(await readFile(paths.answers, 'utf8')).map((r) => [r[idColumn], r[target]]));
  const publicFiles = new Set(all);
  // the test images: the cells of test.csv that name an image file under public/
  const test: { id: string; file: string }[] = [];
  for (const row of readTable(await readFile(paths.test, 'utf8')))
    for (const cell of Object.values(row)) {
      const file = normalize(cell ?? '');
      if (publicFiles.has(file) && !file.startsWith(`..${sep}`)) test.push({ id: row[idColumn] ?? '', file });
    }
  const testFiles = new Set(test.map((t) => t.file));
  const hashOf = async (file: string) => {
    const info = await lstat(join(paths.public, file));
    if (!info.isFile()) return '';
    return createHash('sha256')
      .update(await readFile(join(paths.public, file)))
      .digest('hex');
  };
  const trainByHash = new Map<string, string>();
  for (const file of all.filter((f) => !testFiles.has(f))) trainByHash.set(await hashOf(file), file);
  const repeated: { test: string; train: string }[] = [];
  const rows: { file: string; label: string; texts: string[]; metadata: string[] }[] = [];
  for (const { id, file } of test) {
    const bytes = await readFile(join(paths.public, file));
    const twin = trainByHash.get(createHash('sha256').update(bytes).digest('hex'));
    if (twin) repeated.push({ test: file, train: twin });
    const label = answers.get(id);
    if (label !== undefined) rows.push({ file, label, texts: [relative('.', file)], metadata: imageMetadata(bytes) });
  }
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  return [
    repeated.length
      ? {
          name: 'images.no_test_in_train',
          passed: false,
          detail: `${repeated.length} of ${test.length} test images are also public outside test.csv, byte for byte (e.g. ${repeated[0]!.test} = ${repeated[0]!.train}); drop exact duplicates before the split`,
          evidence: { repeated: repeated.slice(0, 10) },
        }
      : {
          name: 'images.no_test_in_train',
          passed: true,
          detail: `none of the ${test.length} test images is repeated among the ${all.length - test.length} other public images`,
        },
    leakCheck('images.no_label_in_names', 'file names', rows, labels),
    leakCheck(
      'images.no_label_in_metadata',
      'metadata (PNG text chunks, EXIF)',
      rows.map((r) => ({ ...r, texts: r.metadata })),
      labels,
    ),
  ];
}
