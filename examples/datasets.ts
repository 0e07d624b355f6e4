import { dirname, join } from 'node:path';

/** vega-datasets does not export its data files; they sit beside its build folder. */
const vegaData = join(dirname(require.resolve('vega-datasets')), '..', 'data');

/** Real datasets shipped by npm data packages, with the script the smoke workflow trains on each. */
export const EXAMPLE_DATASETS = {
  penguins: {
    file: join(vegaData, 'penguins.json'),
    fileName: 'penguins.json',
    smokeScript: join(__dirname, 'smoke', 'train_penguins.py'),
  },
} as const;

export type ExampleDatasetName = keyof typeof EXAMPLE_DATASETS;
