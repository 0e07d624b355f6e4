import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { DOCUMENTATION_FILE } from './documentation';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv } from 'csv-parse';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { DatasetProfile } from '../../domain/profile';

/** A cell as text; null = missing. */
export type Cell = string | null;

/** A dataset held column by column: `values[c][r]` is row r of column c. */
export interface Table {
  columns: string[];
  values: Cell[][];
  rows: number;
}

export type DatasetFormat = DatasetProfile['source']['format'];

/** Input the user must fix; the activity turns it into a non-retryable `BadDataset` failure. */
export class BadDatasetError extends Error {
  override name = 'BadDatasetError';
}

type FileFormat = Exclude<DatasetFormat, 'tsv' | 'folder' | 'images'>;
const EXTENSIONS: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.tab': 'csv',
  '.txt': 'csv',
  '.json': 'json',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};
const SUPPORTED = 'CSV/TSV (.csv .tsv .tab .txt), JSON (.json), JSONL (.jsonl .ndjson) or Parquet (.parquet .pq)';

/** Read as missing, like pandas' default NA values. */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '#N/A']);
const DELIMITERS = [',', '\t', ';', '|'];
const SNIFF_CHARS = 64 * 1024;

/** The files a path stands for (one, or a folder's data files in sorted order), checked to exist. */
export async function resolveDataFiles(path: string): Promise<{ files: string[]; folder: boolean }> {
  const info = await stat(path).catch(() => undefined);
  if (!info)
    throw new BadDatasetError(
      `${path} does not exist; check the path (relative paths resolve against ${process.cwd()})`,
    );
  if (!info.isDirectory()) {
    fileFormat(path);
    return { files: [path], folder: false };
  }
  const entries = await readdir(path, { withFileTypes: true });
  const files = entries
    .filter(
      (e) =>
        e.isFile() &&
        !e.name.startsWith('.') &&
        !DOCUMENTATION_FILE.test(e.name) &&
        EXTENSIONS[extname(e.name).toLowerCase()],
    )
    .map((e) => e.name)
    .sort()
    .map((name) => join(path, name));
  if (files.length === 0) throw new BadDatasetError(`folder ${path} holds no data files; put ${SUPPORTED} files in it`);
  return { files, folder: true };
}

/** Reads a file or a folder of files with identical columns into one table. */
export async function readTable(
  path: string,
  { maxBytes }: { maxBytes?: number } = {},
): Promise<{ table: Table; format: DatasetFormat }> {
  const { files, folder } = await resolveDataFiles(path);
  const parts: { table: Table; format: DatasetFormat }[] = [];
  for (const file of files) parts.push(await readOne(file, maxBytes));
  const table = dropOrNameIndex(
    folder
      ? concatenate(
          path,
          files,
          parts.map((p) => p.table),
        )
      : parts[0]!.table,
  );
  table.columns = uniqueNames(table.columns);
  if (table.columns.length < 2) {
    throw new BadDatasetError(
      `${path} has only one column ("${table.columns[0]}"): a task needs a target and at least one feature; if it is delimited by something other than , ; tab or |, convert it to CSV`,
    );
  }
  return { table, format: folder ? 'folder' : parts[0]!.format };
}

function fileFormat(file: string): FileFormat {
  const ext = extname(file).toLowerCase();
  const format = EXTENSIONS[ext];
  if (!format)
    throw new BadDatasetError(
      `${file}: unsupported file type "${ext || '(no extension)'}"; convert it to ${SUPPORTED}`,
    );
  return format;
}

async function readOne(file: string, maxBytes?: number): Promise<{ table: Table; format: DatasetFormat }> {
  if ((await stat(file)).size === 0)
    throw new BadDatasetError(`${file} is empty; give a file with a header and data rows`);
  const format = fileFormat(file);
  let result: { table: Table; format: DatasetFormat };
  if (format === 'csv') result = await readDelimited(file);
  else if (format === 'json') result = { table: await readJson(file), format };
  else if (format === 'jsonl') result = { table: await readJsonLines(file), format };
  else result = { table: await readParquet(file, maxBytes), format };
  const { table } = result;
  if (table.columns.length === 0)
    throw new BadDatasetError(`${file} is empty; give a file with a header and data rows`);
  if (table.rows === 0) throw new BadDatasetError(`${file} has a header but no data rows; add rows`);
  return result;
}

/** UTF-8 text of a file, chunk by chunk, refusing NUL bytes and invalid UTF-8 (binary junk). */
async function* textChunks(file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    const nul = chunk.indexOf(0);
    if (nul >= 0)
      throw new BadDatasetError(
        `${file} contains a NUL byte at byte ${offset + nul}: it looks binary, not text; give a UTF-8 text file or Parquet`,
      );
    try {
      yield decoder.decode(chunk, { stream: true });
    } catch {
      throw new BadDatasetError(`${file} is not valid UTF-8 (near byte ${offset}); re-save it as UTF-8`);
    }
    offset += chunk.length;
  }
  try {
    yield decoder.decode();
  } catch {
    throw new BadDatasetError(`${file} is not valid UTF-8 (it ends mid-character); re-save it as UTF-8`);
  }
}

async function readDelimited(file: string): Promise<{ table: Table; format: DatasetFormat }> {
  const chunks = textChunks(file);
  // Buffer the head to sniff the delimiter, then parse the head and the rest as one stream.
  const head: string[] = [];
  let headLength = 0;
  while (headLength < SNIFF_CHARS) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const sample = head.join('');
  if (sample.trim() === '')
    throw new BadDatasetError(`${file} is empty (only blank space); give a file with a header and data rows`);
  const delimiter = sniffDelimiter(sample);
  async function* all() {
    yield* head;
    yield* chunks;
  }
  const builder = new TableBuilder();
  try {
    await pipeline(
      Readable.from(all()),
      parseCsv({ delimiter, skip_empty_lines: true, relax_quotes: true }),
      async (records: AsyncIterable<string[]>) => {
        for await (const record of records) {
          if (builder.columns.length === 0) builder.setHeader(record.map((name) => name.trim()));
          else builder.addRow(record.map(cell));
        }
      },
    );
  } catch (err) {
    if (err instanceof BadDatasetError) throw err;
    throw new BadDatasetError(
      `${file} is not valid delimited text: ${(err as Error).message}; check the quoting and that every row has the header's number of fields`,
    );
  }
  return { table: builder.table(), format: delimiter === '\t' ? 'tsv' : 'csv' };
}

/**
 * The delimiter whose count per record (outside quotes) is the same on the most records of the
 * head, header included; ties go to the most fields, then to the order of DELIMITERS.
 */
function sniffDelimiter(sample: string): string {
  const perRecord: Record<string, number>[] = [];
  let counts: Record<string, number> = {};
  let quoted = false;
  for (let i = 0; i < sample.length && perRecord.length < 50; i++) {
    const ch = sample[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '\n') {
      perRecord.push(counts);
      counts = {};
    } else if (!quoted && DELIMITERS.includes(ch)) counts[ch] = (counts[ch] ?? 0) + 1;
  }
  if (perRecord.length === 0) perRecord.push(counts); // a single unterminated line
  let best = { delimiter: ',', agree: 0, fields: 0 };
  for (const delimiter of DELIMITERS) {
    const first = perRecord[0]![delimiter] ?? 0;
    if (first === 0) continue;
    const agree = perRecord.filter((r) => (r[delimiter] ?? 0) === first).length;
    if (agree > best.agree || (agree === best.agree && first > best.fields)) best = { delimiter, agree, fields: first };
  }
  return best.delimiter;
}

async function readJson(file: string): Promise<Table> {
  let text = '';
  for await (const chunk of textChunks(file)) text += chunk;
  if (text.trim() === '')
    throw new BadDatasetError(`${file} is empty (only blank space); give a JSON array of objects`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new BadDatasetError(
      `${file} is not valid JSON: ${jsonErrorWhere(text, err as Error)}; fix it, or give one object per line as .jsonl`,
    );
  }
  if (!Array.isArray(data))
    throw new BadDatasetError(`${file}: expected a JSON array of objects (one per row), got ${typeOf(data)}`);
  const builder = new TableBuilder();
  data.forEach((row, i) => {
    if (!isRecord(row))
      throw new BadDatasetError(`${file}: item ${i} of the array is ${typeOf(row)}, expected an object (one per row)`);
    builder.addObject(row);
  });
  return builder.table();
}

/** Where the JSON breaks, as line and column: V8's message does not always give a position. */
function jsonErrorWhere(text: string, err: Error, firstLine = 1): string {
  const at = jsonErrorOffset(text);
  if (at === undefined) return err.message;
  let line = firstLine;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < at; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  const found = at < text.length ? JSON.stringify(text[at]) : 'end of input';
  return `unexpected ${found} at line ${line}, column ${at - lineStart + 1}`;
}

/** The offset of the first syntax error, by a small recursive-descent scan (it throws the offset). */
function jsonErrorOffset(text: string): number | undefined {
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const take = (ch: string) => {
    space();
    if (text[i] !== ch) throw i;
    i++;
  };
  const string = () => {
    take('"');
    for (; text[i] !== '"'; i += text[i] === '\\' ? 2 : 1) if (i >= text.length) throw i;
    i++;
  };
  const sequence = (close: string, item: () => void) => {
    space();
    if (text[i] === close) return void i++;
    for (item(), space(); text[i] === ','; item(), space()) i++;
    take(close);
  };
  const value = (): void => {
    space();
    if (text[i] === '{') {
      i++;
      sequence('}', () => {
        string();
        take(':');
        value();
      });
    } else if (text[i] === '[') {
      i++;
      sequence(']', value);
    } else if (text[i] === '"') string();
    else {
      literal.lastIndex = i;
      if (!literal.test(text)) throw i;
      i = literal.lastIndex;
    }
  };
  try {
    value();
    space();
    return i < text.length ? i : undefined;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}

async function readJsonLines(file: string): Promise<Table> {
  const builder = new TableBuilder();
  let lineNo = 0;
  const addLine = (line: string) => {
    lineNo++;
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new BadDatasetError(
        `${file} is not valid JSON Lines: ${jsonErrorWhere(line, err as Error, lineNo)}; each line must hold one JSON object`,
      );
    }
    if (!isRecord(row))
      throw new BadDatasetError(`${file} line ${lineNo} is ${typeOf(row)}, expected a JSON object (one per line)`);
    builder.addObject(row);
  };
  let rest = '';
  for await (const chunk of textChunks(file)) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    lines.forEach(addLine);
  }
  addLine(rest);
  return builder.table();
}

/**
 * Reads a Parquet file; `maxBytes` caps the data it declares once decompressed and decoded (its
 * uncompressed pages, and at least 8 bytes a cell), so a small file that expands enormously (a
 * decompression or run-length bomb) is refused before it is read.
 */
async function readParquet(file: string, maxBytes?: number): Promise<Table> {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const builder = new TableBuilder();
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    throw new BadDatasetError(
      `${file} is not a readable Parquet file (${(err as Error).message}); re-export it, or give CSV`,
    );
  }
  const columns = metadata.row_groups.flatMap((group) => group.columns);
  const uncompressed = columns.reduce((sum, c) => sum + Number(c.meta_data?.total_uncompressed_size ?? 0), 0);
  const cells = Number(metadata.num_rows) * Math.max(1, metadata.row_groups[0]?.columns.length ?? 1);
  const expanded = Math.max(uncompressed, cells * 8);
  if (maxBytes !== undefined && expanded > maxBytes) {
    throw new BadDatasetError(
      `${file} expands to ${(expanded / 1024 / 1024).toFixed(1)} MB once decompressed, over the ` +
        `${(maxBytes / 1024 / 1024).toFixed(0)} MB limit (forge.maxDatasetMb); give a sample of the data`,
    );
  }
  try {
    builder.setHeader(parquetSchema(metadata).children.map((c) => c.element.name));
    for (const row of await parquetReadObjects({ file: buffer, metadata, compressors })) builder.addObject(row);
  } catch (err) {
    throw new BadDatasetError(
      `${file} is not a readable Parquet file (${(err as Error).message}); re-export it, or give CSV`,
    );
  }
  return builder.table();
}

/** Normalises any parsed value to a cell: text as is, numbers as JS prints them, nested values as JSON. */
function cell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return MISSING.has(value.trim()) ? null : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  // Timestamps as naive UTC ("2001-01-01T00:01:00"), midnight as the date alone: a "Z" on some cells
  // and not others would mix time-zone-aware and naive values, which pandas cannot compare.
  if (value instanceof Date)
    return Number.isNaN(value.getTime())
      ? null
      : value
          .toISOString()
          .replace(/T00:00:00\.000Z$/, '')
          .replace(/(\.000)?Z$/, '');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Appends rows; objects may bring new keys (earlier rows get missing cells) or lack some. */
class TableBuilder {
  columns: string[] = [];
  private values: Cell[][] = [];
  private index = new Map<string, number>();
  private rows = 0;

  /** CSV and Parquet headers: every name is a column, repeats included (renamed later). */
  setHeader(names: string[]) {
    for (const name of names) this.add(name);
  }

  addRow(cells: Cell[]) {
    cells.forEach((c, i) => this.values[i]!.push(c));
    this.rows++;
  }

  addObject(row: Record<string, unknown>) {
    for (const key of Object.keys(row)) if (!this.index.has(key)) this.add(key);
    this.columns.forEach((name, i) => this.values[i]!.push(cell(row[name])));
    this.rows++;
  }

  table(): Table {
    return { columns: this.columns, values: this.values, rows: this.rows };
  }

  private add(name: string) {
    this.index.set(name, this.columns.length);
    this.columns.push(name);
    this.values.push(new Array<Cell>(this.rows).fill(null));
  }
}

/** A folder's tables in file order; every file must have the first file's columns (any order). */
function concatenate(folder: string, files: string[], tables: Table[]): Table {
  const [out, ...rest] = tables as [Table, ...Table[]];
  rest.forEach((table, i) => {
    const missing = out.columns.filter((c) => !table.columns.includes(c));
    const extra = table.columns.filter((c) => !out.columns.includes(c));
    if (missing.length || extra.length || table.columns.length !== out.columns.length) {
      const diff = [missing.length ? `lacks ${list(missing)}` : '', extra.length ? `adds ${list(extra)}` : '']
        .filter(Boolean)
        .join(' and ');
      throw new BadDatasetError(
        `folder ${folder}: ${basename(files[i + 1]!)} has different columns from ${basename(files[0]!)} (it ${diff || 'repeats a column name'}); files in a folder are concatenated, so give them the same columns or intake them separately`,
      );
    }
    out.columns.forEach((name, c) => {
      const source = table.values[table.columns.indexOf(name)]!;
      for (const v of source) out.values[c]!.push(v);
    });
    out.rows += table.rows;
  });
  return out;
}

function list(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

/** A pandas-style unnamed first column: dropped when it only counts rows, else kept as `row_id`. */
function dropOrNameIndex(table: Table): Table {
  const name = table.columns[0];
  if (name !== '' && name !== 'Unnamed: 0') return table;
  const values = table.values[0]!;
  const counts = (start: number) => values.every((v, i) => v !== null && /^\d+$/.test(v) && Number(v) === i + start);
  if (counts(0) || counts(1))
    return { columns: table.columns.slice(1), values: table.values.slice(1), rows: table.rows };
  return { ...table, columns: ['row_id', ...table.columns.slice(1)] };
}

/** Blank names become `column_<n>`; repeated names get `_2`, `_3`, … */
function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((raw, i) => {
    const base = raw === '' ? `column_${i + 1}` : raw;
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base}_${n}`;
    seen.add(name);
    return name;
  });
}
