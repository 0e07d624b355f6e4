import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { PROMPTS_DIRS } from '../agents/providers';
import type { ProviderName } from '../domain/providers';
import type { MedalThresholds } from '../domain/rewards';
import type { Usage } from '../domain/usage';
import type { VerificationReport } from '../domain/verification';
import { BadPackageError } from '../package/errors';
import { recordReferenceScores } from '../package/leaderboard';
import { annotateManifest } from '../package/manifest';
import type { CatalogOpener } from '../package/open-catalog';
import { copyForVerification } from '../package/stage';
import { writeVerificationReport } from '../package/verification-report';

async function hashDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) hash.update(name).update(await readFile(join(dir, name)));
  return hash.digest('hex').slice(0, 16);
}

export interface Provenance {
  workflowId: string;
  provider: ProviderName;
  model?: string;
  rounds?: number;
  usage?: Usage;
}

/** Control-queue activities: package folders in the artifact store and the catalog. */
export function createCatalogActivities({
  artifactsDir,
  catalogs,
}: {
  artifactsDir: string;
  /** the catalog in a folder: the folder itself, or the artifact store's cached there */
  catalogs: CatalogOpener;
}) {
  return {
    /** Copies a package someone wrote into the artifact store, for verification to work on; returns the copy. */
    async stagePackage({ sourceDir, key }: { sourceDir: string; key: string }): Promise<string> {
      const packageDir = join(artifactsDir, 'verify', key.replace(/[^A-Za-z0-9_.-]+/g, '_'));
      try {
        await copyForVerification(sourceDir, packageDir);
      } catch (err) {
        if (err instanceof BadPackageError) throw ApplicationFailure.nonRetryable(err.message, 'BadPackage');
        throw err;
      }
      return packageDir;
    },

    /** The verification report, the reference scores on the leaderboard, a summary and provenance in the manifest. */
    async writeReport(input: {
      packageDir: string;
      report: VerificationReport;
      provenance: Provenance;
      thresholds?: MedalThresholds;
    }): Promise<void> {
      const { packageDir, report, provenance, thresholds } = input;
      await writeVerificationReport(packageDir, report);
      try {
        await recordReferenceScores(packageDir, report.scores ?? {}, thresholds, report.ladder);
      } catch (err) {
        // a hand-written leaderboard.csv that does not parse: its file and line are in the message
        if (err instanceof BadPackageError) throw ApplicationFailure.nonRetryable(err.message, 'BadPackage');
        throw err;
      }
      await annotateManifest(packageDir, {
        provenance: { ...provenance, promptsHash: await hashDir(PROMPTS_DIRS[provenance.provider]) },
        verification: {
          status: report.status,
          failed: report.checks.filter((c) => !c.passed).map((c) => c.name),
          checks: report.checks.length,
        },
        referenceScores: report.scores,
      });
    },

    /** Publishes a verified package as `<catalog>/<id>`, whole (package/catalog.ts); returns its local path. */
    async publishTask({ packageDir, catalogDir }: { packageDir: string; catalogDir: string }): Promise<string> {
      return catalogs(catalogDir).publish(packageDir);
    },
  };
}

export type CatalogActivities = ReturnType<typeof createCatalogActivities>;
