import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { exampleDatasetPath } from '../examples/forge-datasets';

/** The example datasets the smoke workflow can train on, with its training script for each. */
const SMOKE_SCRIPTS: Record<string, string> = {
  penguins: join(__dirname, '..', 'examples', 'smoke', 'train_penguins.py'),
};

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
      const script = SMOKE_SCRIPTS[dataset];
      if (!script) {
        throw ApplicationFailure.nonRetryable(
          `unknown example dataset "${dataset}"; choose one of: ${Object.keys(SMOKE_SCRIPTS).join(', ')}`,
          'UnknownDataset',
        );
      }
      const file = await exampleDatasetPath(dataset, join(artifactsDir, 'examples'));
      const bytes = await readFile(file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const dataDir = join(artifactsDir, 'datasets', `${dataset}-${sha256.slice(0, 12)}`);
      await mkdir(dataDir, { recursive: true });
      const target = join(dataDir, basename(file));
      // write-then-rename: a crash never leaves a half-copied dataset behind
      await copyFile(file, `${target}.partial`);
      await rename(`${target}.partial`, target);
      return { dataDir, code: await readFile(script, 'utf8'), sha256 };
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
