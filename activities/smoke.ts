import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { EXAMPLE_DATASETS, type ExampleDatasetName } from '../examples/datasets';

export interface StagedSmoke {
  /** artifact-store folder mounted as /data */
  dataDir: string;
  /** the training script, run as the sandbox's main.py */
  code: string;
  sha256: string;
}

/** Control-queue activities of the smoke workflow. */
export function createSmokeActivities({ artifactsDir }: { artifactsDir: string }) {
  return {
    /**
     * Copies an npm-shipped dataset into the artifact store (content-addressed, so a retry or a
     * second run reuses it) and returns it by reference with the script that trains on it.
     */
    async stageSmoke({ dataset }: { dataset: string }): Promise<StagedSmoke> {
      const example = EXAMPLE_DATASETS[dataset as ExampleDatasetName];
      if (!example) {
        const known = Object.keys(EXAMPLE_DATASETS).join(', ');
        throw ApplicationFailure.nonRetryable(`unknown example dataset "${dataset}"; choose one of: ${known}`, 'UnknownDataset');
      }
      const bytes = await readFile(example.file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const dataDir = join(artifactsDir, 'datasets', `${dataset}-${sha256.slice(0, 12)}`);
      await mkdir(dataDir, { recursive: true });
      const target = join(dataDir, example.fileName);
      // write-then-rename: a crash never leaves a half-copied dataset behind
      await copyFile(example.file, `${target}.partial`);
      await rename(`${target}.partial`, target);
      return { dataDir, code: await readFile(example.smokeScript, 'utf8'), sha256 };
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
