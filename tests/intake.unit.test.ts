import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIntakeActivities } from '../activities/intake';
import { profileTable } from '../activities/intake/profile';
import { type Cell, readTable, type Table } from '../activities/intake/read-table';
import type { DatasetProfile } from '../domain/profile';
import { EXAMPLE_FORGE_DATASETS, exampleDatasetPath } from '../examples/forge-datasets';

const work = mkdtempSync(join(tmpdir(), 'anvil-intake-'));
const cacheDir = join(work, 'cache');
const activities = createIntakeActivities({ artifactsDir: join(work, 'artifacts'), maxDatasetMb: 200 });

function dir(name: string): string {
  const path = join(work, name);
  mkdirSync(path, { recursive: true });
  return path;
}

async function intake(path: string, name?: string): Promise<DatasetProfile> {
  const result = await activities.intakeDataset({ path, name });
  const profile = JSON.parse(readFileSync(result.profileFile, 'utf8')) as DatasetProfile;
  expect(result).toMatchObject({
    name: profile.name,
    rows: profile.rows,
    columns: profile.columns.length,
    candidateTargets: profile.candidateTargets.length,
  });
  return profile;
}

async function example(name: string, as?: string): Promise<DatasetProfile> {
  return intake(await exampleDatasetPath(name, cacheDir), as);
}

function delimited(table: Table, delimiter: string, bom = ''): string {
  const field = (v: Cell) =>
    v === null ? '' : v.includes(delimiter) || /["\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  const lines = [table.columns.map(field).join(delimiter)];
  for (let r = 0; r < table.rows; r++) lines.push(table.values.map((column) => field(column[r]!)).join(delimiter));
  return bom + lines.join('\n') + '\n';
}

function rowsOf(table: Table, from = 0, to = table.rows): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (let r = from; r < to; r++) {
    const row: Record<string, string> = {};
    table.columns.forEach((name, c) => {
      const v = table.values[c]![r];
      if (v != null) row[name] = v;
    });
    rows.push(row);
  }
  return rows;
}

function withColumns(table: Table, extra: Record<string, Cell[]>): Table {
  return {
    rows: table.rows,
    columns: [...table.columns, ...Object.keys(extra)],
    values: [...table.values, ...Object.values(extra)],
  };
}

function column(profile: { columns: DatasetProfile['columns'] }, name: string) {
  const found = profile.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
}

let penguins: Table;
beforeAll(async () => {
  penguins = (await readTable(await exampleDatasetPath('penguins', cacheDir))).table;
});

describe('reading tables', () => {
  it('reads the penguins JSON as a column table with missing cells', async () => {
    const { table, format } = await readTable(await exampleDatasetPath('penguins', cacheDir));
    expect(format).toBe('json');
    expect(table.rows).toBe(344);
    expect(table.columns).toEqual([
      'Species',
      'Island',
      'Beak Length (mm)',
      'Beak Depth (mm)',
      'Flipper Length (mm)',
      'Body Mass (g)',
      'Sex',
    ]);
    expect(table.values.map((c) => c[0])).toEqual(['Adelie', 'Torgersen', '39.1', '18.7', '181', '3750', 'MALE']);
    expect(table.values[6]!.filter((v) => v === null)).toHaveLength(10);
  });

  it('reads the same data as TSV, pipe-delimited, JSONL, Parquet, a folder of halves and pandas CSV', async () => {
    const d = dir('formats');
    const write = (name: string, content: string | Buffer) => {
      writeFileSync(join(d, name), content);
      return join(d, name);
    };
    const numeric = penguins.values.map((c) => c.every((v) => v === null || !Number.isNaN(Number(v))));
    const parquet = parquetWriteBuffer({
      columnData: penguins.columns.map((name, c) => ({
        name,
        data: penguins.values[c]!.map((v) => (v === null ? null : numeric[c] ? Number(v) : v)),
        type: numeric[c] ? ('DOUBLE' as const) : ('STRING' as const),
      })),
    });
    const halves = dir('formats/halves');
    writeFileSync(join(halves, 'part-1.csv'), delimited({ ...penguins, rows: 172 }, ','));
    const secondHalf = { ...penguins, rows: 172, values: penguins.values.map((c) => c.slice(172)) };
    writeFileSync(join(halves, 'part-2.csv'), delimited(secondHalf, ','));
    writeFileSync(join(halves, 'README.md'), '# two halves\n');
    const indexed = (index: (i: number) => string) =>
      withColumns(
        { rows: penguins.rows, columns: [], values: [] },
        {
          '': Array.from({ length: penguins.rows }, (_, i) => index(i)),
          ...Object.fromEntries(penguins.columns.map((n, c) => [n, penguins.values[c]!])),
        },
      );

    const cases: [string, string, Table][] = [
      [write('penguins.tsv', delimited(penguins, '\t')), 'tsv', penguins],
      [write('penguins-pipe.csv', delimited(penguins, '|')), 'csv', penguins],
      [
        write(
          'penguins.jsonl',
          rowsOf(penguins)
            .map((r) => JSON.stringify(r))
            .join('\n') + '\n',
        ),
        'jsonl',
        penguins,
      ],
      [write('penguins.parquet', Buffer.from(parquet)), 'parquet', penguins],
      [halves, 'folder', penguins],
      [
        write(
          'pandas.csv',
          delimited(
            indexed((i) => String(i)),
            ',',
          ),
        ),
        'csv',
        penguins,
      ],
      [
        write(
          'pandas-from-1.csv',
          delimited(
            indexed((i) => String(i + 1)),
            ',',
          ),
        ),
        'csv',
        penguins,
      ],
    ];
    for (const [path, format, expected] of cases) {
      const read = await readTable(path);
      expect(read.format, path).toBe(format);
      expect(read.table, path).toEqual(expected);
    }
    const shuffledIndex = await readTable(
      write(
        'pandas-shuffled.csv',
        delimited(
          indexed((i) => String(1000 + ((i * 37) % 344))),
          ',',
        ),
      ),
    );
    expect(shuffledIndex.table.columns).toEqual(['row_id', ...penguins.columns]);
    expect(column(profileTable(shuffledIndex.table), 'row_id').kind).toBe('id');
  });

  it('reads compressed Parquet (GZIP here; ZSTD and the others alike) and writes its timestamps as naive UTC that pandas can compare', async () => {
    const d = dir('parquet-codecs');
    const when = [Date.UTC(2001, 0, 1, 0, 1), Date.UTC(2001, 0, 2), Date.UTC(2001, 0, 2, 13, 5, 7)];
    const parquet = parquetWriteBuffer({
      codec: 'GZIP',
      compressors: { GZIP: (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes)) },
      columnData: [
        { name: 'date', data: when.map((ms) => new Date(ms)), type: 'TIMESTAMP' },
        { name: 'origin', data: ['LAS', 'ATL', 'SFO'], type: 'STRING' },
      ],
    });
    const file = join(d, 'flights.parquet');
    writeFileSync(file, Buffer.from(parquet));
    const { table } = await readTable(file);
    expect(table.columns).toEqual(['date', 'origin']);
    // A "Z" on some cells and none on the date-only one would mix aware and naive times in pandas.
    expect(table.values[0]).toEqual(['2001-01-01T00:01:00', '2001-01-02', '2001-01-02T13:05:07']);
    expect(table.values[1]).toEqual(['LAS', 'ATL', 'SFO']);
  });

  it('reads a semicolon CSV with a BOM and quoted fields holding ; quotes and newlines', async () => {
    const island = penguins.values[1]!.slice();
    island[0] = 'Torgersen; "north"\nshore';
    island[5] = 'Biscoe|"south";\n\nbay';
    const tricky = { ...penguins, values: penguins.values.map((c, i) => (i === 1 ? island : c)) };
    const path = join(dir('semicolon'), 'penguins.csv');
    writeFileSync(path, delimited(tricky, ';', '\uFEFF'));
    const { table, format } = await readTable(path);
    expect(format).toBe('csv');
    expect(table.columns[0]).toBe('Species');
    expect(table).toEqual(tricky);
  });
});

describe('profiling real datasets', () => {
  it('penguins: kinds, stats, Species the one target, the other columns its inputs', async () => {
    const profile = await example('penguins');
    expect(profile.rows).toBe(344);
    expect(profile.columns.map((c) => c.kind)).toEqual([
      'categorical',
      'categorical',
      'numeric',
      'numeric',
      'integer',
      'integer',
      'categorical',
    ]);
    expect(column(profile, 'Sex').missing).toBeCloseTo(10 / 344, 3);
    expect(column(profile, 'Species').top).toEqual([
      { value: 'Adelie', count: 152 },
      { value: 'Gentoo', count: 124 },
      { value: 'Chinstrap', count: 68 },
    ]);
    expect(column(profile, 'Body Mass (g)').stats).toMatchObject({ min: 2700, max: 6300 });
    // Species is what the data was collected for; the rest are inputs that explain it.
    expect(profile.candidateTargets).toEqual([
      expect.objectContaining({ column: 'Species', taskType: 'multiclass-classification', outcome: true }),
    ]);
    expect(column(profile, 'Sex').notTarget).toMatch(/an input that explains the outcome "Species"/);
    expect(column(profile, 'Body Mass (g)').notTarget).toMatch(/an input that explains the outcome "Species"/);
    expect(profile).toMatchObject({ idColumns: [], timeColumns: [], textColumns: [], leakageSuspects: [] });
    expect(profile.source).toMatchObject({ format: 'json', files: [{ bytes: 67119 }] });
  });

  it('boston housing: medv is the one target, a regression; chas is boolean', async () => {
    const profile = await example('boston-housing');
    expect(profile.name).toBe('boston-housing');
    expect(profile.rows).toBe(506);
    expect(profile.columns).toHaveLength(14);
    expect(profile.candidateTargets).toEqual([expect.objectContaining({ column: 'medv', taskType: 'regression' })]);
    expect(column(profile, 'chas').kind).toBe('boolean');
    expect(column(profile, 'chas').notTarget).toMatch(/an input that explains the outcome "medv"/);
  });

  it('spam assassin: label is a binary target, category a multiclass one, each leaking the other; subject and body are text', async () => {
    const profile = await example('spam-assassin');
    expect(profile.rows).toBe(6046);
    expect(column(profile, 'label').top).toEqual([
      { value: 'ham', count: 4150 },
      { value: 'spam', count: 1896 },
    ]);
    expect(profile.candidateTargets.map((c) => [c.column, c.taskType]).sort()).toEqual([
      ['category', 'multiclass-classification'],
      ['label', 'binary-classification'],
    ]);
    expect(column(profile, 'category').top).toEqual([
      { value: 'easy-ham', count: 3900 },
      { value: 'spam', count: 1896 },
      { value: 'hard-ham', count: 250 },
    ]);
    // category = spam exactly when label = spam: a task on one must not see the other
    expect(profile.leakageSuspects).toContainEqual(expect.objectContaining({ column: 'category', target: 'label' }));
    expect(profile.textColumns).toEqual(['subject', 'body']);
    expect(column(profile, 'body').meanLength).toBeGreaterThan(500);
    expect(column(profile, 'body').meanLength).toBeLessThanOrEqual(2000);
  });

  it('seattle weather: date indexes a time series, so numeric targets are forecasting', async () => {
    const profile = await example('seattle-weather');
    expect(profile.rows).toBe(1461);
    expect(profile.timeColumns).toEqual(['date']);
    expect(column(profile, 'date').kind).toBe('datetime');
    expect(profile.candidateTargets.find((c) => c.column === 'weather')).toMatchObject({
      taskType: 'multiclass-classification',
    });
    expect(profile.candidateTargets.find((c) => c.column === 'temp_max')).toMatchObject({ taskType: 'forecasting' });
    expect(profile.candidateTargets.some((c) => c.column === 'date' || c.taskType === 'regression')).toBe(false);
  });

  it('stocks: month-name dates ("Jan 1 2000") index one price series per symbol, forecast along them', async () => {
    const profile = await intake(join(dirname(require.resolve('vega-datasets')), '..', 'data', 'stocks.csv'));
    expect(column(profile, 'date').kind).toBe('datetime');
    expect(profile).toMatchObject({ timeIndex: 'date', keyColumns: ['symbol'] });
    expect(profile.candidateTargets).toMatchObject([{ column: 'price', taskType: 'forecasting', outcome: true }]);
  });

  it('cars: a model-year column is a time column but indexes no series, so mileage stays regression', async () => {
    const profile = await example('cars');
    expect(profile.timeColumns).toEqual(['Year']);
    expect(profile.candidateTargets.find((c) => c.column === 'Miles_per_Gallon')).toMatchObject({
      taskType: 'regression',
    });
  });

  it('iris: species, 3 classes of 50, is the top target', async () => {
    const profile = await example('iris');
    expect(profile.rows).toBe(150);
    expect(profile.candidateTargets[0]).toMatchObject({
      column: 'species',
      taskType: 'multiclass-classification',
      outcome: true,
    });
    expect(column(profile, 'species').top?.map((t) => t.count)).toEqual([50, 50, 50]);
  });

  it('detects id columns (named, or unique codes) and never offers them as targets', () => {
    const n = penguins.rows;
    const profile = profileTable(
      withColumns(penguins, {
        penguin_id: Array.from({ length: n }, (_, i) => String(n - i)),
        tag: Array.from({ length: n }, (_, i) => `t${((i * 7919) % 100003).toString(16)}`),
        visit_id: Array.from({ length: n }, (_, i) => String(i % 7)),
      }),
    );
    expect(profile.idColumns).toEqual(['penguin_id', 'tag']);
    expect(column(profile, 'visit_id').kind).toBe('integer'); // repeats: not an id, but named like one
    expect(profile.candidateTargets.some((c) => ['penguin_id', 'tag', 'visit_id'].includes(c.column))).toBe(false);
  });

  it('flags planted leakage and leaves honest or unrelated columns alone', () => {
    const species = penguins.values[0]!;
    const others = ['Adelie', 'Gentoo', 'Chinstrap'];
    // every 10th row gets a wrong species: 90% pure
    const noisy = species.map((s, i) => (i % 10 === 0 ? others[(others.indexOf(s!) + 1) % 3]! : s));
    const profile = profileTable(
      withColumns(penguins, {
        species_code: species.map((s) => s!.slice(0, 1)),
        body_mass_kg: penguins.values[5]!.map((g) => (g === null ? null : String(Number(g) / 1000))),
        species_guess: noisy,
        field_notes: noisy,
      }),
    );
    const pairs = profile.leakageSuspects.map((s) => `${s.column} -> ${s.target}`);
    expect(pairs).toEqual(
      expect.arrayContaining(['species_code -> Species', 'body_mass_kg -> Body Mass (g)', 'species_guess -> Species']),
    );
    expect(pairs).not.toContain('Island -> Species');
    expect(pairs).not.toContain('field_notes -> Species');
    expect(pairs).not.toContain('Flipper Length (mm) -> Body Mass (g)');
    expect(profile.leakageSuspects.find((s) => s.column === 'species_guess')?.reason).toMatch(
      /name contains "Species"/,
    );
    expect(profile.leakageSuspects.find((s) => s.column === 'body_mass_kg')?.reason).toMatch(/\|r\| = 1\.000/);
  });
});

describe('the intake activity', () => {
  it('stores a canonical CSV that round-trips, with its profile, and reuses them on a second intake', async () => {
    const island = penguins.values[1]!.slice();
    island[0] = 'Torgersen, "north"\nshore';
    const source = { ...penguins, values: penguins.values.map((c, i) => (i === 1 ? island : c)) };
    const path = join(dir('roundtrip'), 'Penguins Semicolon.csv');
    writeFileSync(path, delimited(source, ';'));

    const profile = await intake(path);
    expect(profile.name).toBe('penguins-semicolon');
    const folder = dirname(profile.dataFile);
    expect(folder).toMatch(/datasets[/\\]penguins-semicolon-[0-9a-f]{12}$/);
    expect(profile.source).toEqual({
      format: 'csv',
      files: [
        { path, bytes: statSync(path).size, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') },
      ],
    });
    const text = readFileSync(profile.dataFile, 'utf8');
    expect(text.startsWith('Species,Island,Beak Length (mm),')).toBe(true);
    expect(text).toContain('Adelie,"Torgersen, ""north""\nshore",39.1,');
    expect((await readTable(profile.dataFile)).table).toEqual(source);
    expect(readdirSync(folder).sort()).toEqual(['data.csv', 'profile.json']);

    const before = statSync(profile.dataFile);
    const again = await activities.intakeDataset({ path });
    expect(dirname(again.profileFile)).toBe(folder);
    const after = statSync(profile.dataFile);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('forges a 100k-row dataset', async () => {
    const started = Date.now();
    const profile = await example('flights-100k');
    console.log(
      `flights-100k: intake in ${Date.now() - started} ms, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
    );
    expect(profile.rows).toBe(100_000);
    expect(profile.columns.map((c) => c.name)).toEqual(['delay', 'distance', 'time']);
    expect(profile.candidateTargets.find((c) => c.column === 'delay')).toMatchObject({ taskType: 'regression' });
  });

  it('resolves every example dataset to a readable file', async () => {
    for (const name of Object.keys(EXAMPLE_FORGE_DATASETS))
      expect(statSync(await exampleDatasetPath(name, cacheDir)).size, name).toBeGreaterThan(0);
    await expect(exampleDatasetPath('nope', cacheDir)).rejects.toMatchObject({
      type: 'UnknownDataset',
      message: 'unknown example dataset "nope"',
      hint: expect.stringMatching(/^use example:<name> with one of penguins, /),
    });
  });

  describe('refuses bad input with a message naming the file and what to do', () => {
    const bad = dir('bad');
    const file = (name: string, content: string | Buffer) => {
      writeFileSync(join(bad, name), content);
      return join(bad, name);
    };
    const mismatched = dir('bad/mismatched');
    writeFileSync(join(mismatched, 'a.csv'), 'x,y\n1,2\n3,4\n');
    writeFileSync(join(mismatched, 'b.csv'), 'x,z\n5,6\n');
    const noData = dir('bad/no-data');
    writeFileSync(join(noData, 'README.md'), 'nothing here\n');
    const notes = Array.from(
      { length: 30 },
      (_, i) =>
        `${i + 1},Note number ${i + 1} about something that happened on a day,2020-01-${String(i + 1).padStart(2, '0')}`,
    );
    const big = 'a,b\n' + Array.from({ length: 150_000 }, (_, i) => `${i},${(i * 7) % 13}`).join('\n');

    const cases: [string, string, RegExp, number?][] = [
      ['missing path', join(bad, 'nowhere.csv'), /does not exist/],
      ['empty file', file('empty.csv', ''), /is empty/],
      ['blank file', file('blank.csv', '\n  \n'), /is empty/],
      ['header only', file('header.csv', 'a,b,c\n'), /header but no data rows/],
      [
        'NUL bytes',
        file('binary.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x2c, 0x0a])),
        /NUL byte.*binary/,
      ],
      [
        'invalid UTF-8',
        file('latin1.csv', Buffer.from('name,city\nJos\xe9,S\xe3o Paulo\n', 'latin1')),
        /not valid UTF-8.*re-save it as UTF-8/,
      ],
      ['one column', file('single.csv', 'value\n1\n2\n3\n'), /only one column \("value"\)/],
      [
        'ragged rows',
        file('ragged.csv', 'a,b,c\n1,2,3\n1,2,3,4\n'),
        /line 3.*every row has the header's number of fields/,
      ],
      ['over the size limit', file('big.csv', big), /over the 1 MB limit.*ANVIL_FORGE_MAX_DATASET_MB/, 1],
      ['unsupported extension', file('data.xlsx', 'PK'), /unsupported file type "\.xlsx"/],
      [
        'broken JSON',
        file('broken.json', '[\n  {"a": 1, "b": 2},\n  {"a": 2, "b": }\n]'),
        /not valid JSON: unexpected "}" at line 3, column 17/,
      ],
      ['JSON that is not an array', file('object.json', '{"a": [1, 2]}'), /expected a JSON array of objects/],
      [
        'broken JSONL',
        file('broken.jsonl', '{"a": 1, "b": 2}\n{"a": 2, "b"\n'),
        /not valid JSON Lines: unexpected end of input at line 2, column 13/,
      ],
      ['corrupt Parquet', file('corrupt.parquet', 'this is not parquet at all'), /not a readable Parquet file/],
      [
        'folder with different columns',
        mismatched,
        /b\.csv has different columns from a\.csv \(it lacks "y" and adds "z"\)/,
      ],
      ['folder without data files', noData, /holds no data files/],
    ];
    it('no usable target: a rejection (not bad input) that gives each column its reason', async () => {
      const path = file('notes.csv', 'note_id,note,date\n' + notes.join('\n'));
      const err = await activities.intakeDataset({ path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ type: 'NoUsableTarget', nonRetryable: true });
      expect((err as Error).message).toMatch(
        /no usable target column.*"note_id" is an identifier.*"note" is free text.*"date" is a date or time/,
      );
    });
    it.each(cases)('%s', async (_label, path, message, maxDatasetMb = 200) => {
      const err = await createIntakeActivities({ artifactsDir: join(work, 'artifacts'), maxDatasetMb })
        .intakeDataset({ path })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'BadDataset', nonRetryable: true });
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toMatch(message);
    });
  });
});
