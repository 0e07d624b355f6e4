import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { MedalThresholds } from '../domain/rewards';
import { type SeedFacts, type SynthScores, synthChecks } from '../domain/synth';
import type { CheckResult } from '../domain/verification';
import { catalogTaskDir } from '../package/catalog';
import { BadPackageError } from '../package/errors';
import { type CatalogOpener, materializeCatalogPath } from '../package/open-catalog';
import { packagePaths } from '../package/layout';
import { readManifest } from '../package/manifest';
import { readTaskInfo } from './env/task-info';
import { readDesign, readDna } from './synth-roles';

/** Control-queue activities of Synth: the seed's public facts, and the `synth.*` checks of a draft. */
export function createSynthPackageActivities({
  artifactsDir,
  catalogs,
}: {
  artifactsDir: string;
  /** the catalog in a folder; a store's is fetched to this host to read a seed */
  catalogs: CatalogOpener;
}) {
  return {
    /**
     * The seed's public facts (task.json and the profile of public/train.csv; never private/),
     * written to <artifacts>/synth/<synthId>/seed.json for the Data Strategist.
     */
    async readSeed({
      seedTaskId,
      catalogDir,
      synthId,
    }: {
      seedTaskId: string;
      catalogDir: string;
      synthId: string;
    }): Promise<{ seedFile: string }> {
      const catalog = catalogs(catalogDir);
      const packageDir = catalogTaskDir(catalog.dir, seedTaskId);
      const unknown = (why: string) =>
        ApplicationFailure.nonRetryable(`cannot synthesize from seed "${seedTaskId}": ${why}`, 'UnknownSeed');
      if (!packageDir) throw unknown('not a task id (lowercase letters, digits, dashes): see `anvil tasks list`');
      await materializeCatalogPath(catalog, packageDir);
      let info;
      try {
        info = await readTaskInfo(seedTaskId, packageDir);
      } catch (err) {
        if (err instanceof BadPackageError) throw unknown(err.message);
        throw err;
      }
      if (info.columns.length === 0) {
        const train = packagePaths(packageDir).train;
        const why = `no profiled ${train} (missing or over the profiling size limit): Synth needs its columns`;
        throw ApplicationFailure.nonRetryable(`seed "${seedTaskId}" has ${why}`, 'UnknownSeed');
      }
      const { modality } = await readManifest(packageDir);
      const seed: SeedFacts = {
        taskId: seedTaskId,
        taskType: info.taskType,
        target: info.target,
        idColumn: info.idColumn,
        metric: info.metric,
        columns: info.columns,
        trainRows: info.trainRows,
        profiledRows: info.profiledRows,
        modality,
      };
      const dir = join(artifactsDir, 'synth', synthId.replace(/[^A-Za-z0-9_.-]+/g, '_'));
      await mkdir(dir, { recursive: true });
      const seedFile = join(dir, 'seed.json');
      await writeFile(seedFile, `${JSON.stringify(seed, null, 2)}\n`);
      return { seedFile };
    },

    /** The `synth` stage of verification on a verified-or-not draft (its public/ profiled here). */
    async checkSynthetic(input: {
      draftDir: string;
      dnaFile: string;
      rows: { train: number; test: number };
      scores: SynthScores;
      thresholds?: MedalThresholds;
      generator: { hashes: [string, string]; error?: string };
    }): Promise<CheckResult[]> {
      const { draftDir } = input;
      const manifest = await readManifest(draftDir);
      const design = await readDesign(draftDir);
      const info = await readTaskInfo(manifest.id, draftDir).catch(() => undefined);
      const checks = synthChecks({
        dna: await readDna(input.dnaFile),
        manifest,
        train: info?.columns ?? [],
        trainRows: info?.trainRows ?? 0,
        idColumn: manifest.idColumn,
        target: manifest.target,
        rows: input.rows,
        scores: input.scores,
        thresholds: input.thresholds,
        generatorHashes: input.generator.hashes,
        rule: design.rule,
        description: await readFile(packagePaths(draftDir).description, 'utf8').catch(() => ''),
      });
      // A generator that did not run fails its check with its own account.
      return checks.map((c) =>
        c.name === 'synth.generator_deterministic' && input.generator.error
          ? { ...c, passed: false, detail: input.generator.error }
          : c,
      );
    },
  };
}

export type SynthPackageActivities = ReturnType<typeof createSynthPackageActivities>;
