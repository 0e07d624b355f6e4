import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ProviderName } from '../domain/providers';
import { SEARCH } from '../domain/search-attributes';
import { CHECKS, type VerificationReport } from '../domain/verification';
import { catalogActivities } from './activity-proxies';
import { verifyPackageDir } from './verification';

export interface VerifyPackageInput {
  /** a task package folder, hand-written or forged; it is copied, never changed */
  sourceDir: string;
  provider?: ProviderName;
  /**
   * Publish into this catalog afterwards: when verified, or — for imported benchmark tasks, whose
   * reference solution may be a placeholder — when every assertion on data and metric passed.
   */
  publish?: { catalogDir: string; when: 'verified' | 'assertions-pass' };
  /** run the reference ladder once execution passes (the CLI: config forge.ladder); absent = no ladder */
  ladder?: boolean;
}

/** `anvil verify`: the full verification of any package folder, on a copy in the artifact store. */
export async function verifyPackage({
  sourceDir,
  provider = 'heuristic',
  publish,
  ladder,
}: VerifyPackageInput): Promise<VerificationReport & { packageDir: string; publishedTo?: string }> {
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([{ key: SEARCH.stage, value: 'verify' }]);
  const packageDir = await catalogActivities.stagePackage({ sourceDir, key: workflowId });
  const { report } = await verifyPackageDir(packageDir, { provider, ladder });
  await catalogActivities.writeReport({ packageDir, report, provenance: { workflowId, provider } });
  upsertSearchAttributes([{ key: SEARCH.verdict, value: report.status }]);
  // Every assertion the report holds passed (a history recorded before a check existed lacks it).
  const assertions = report.checks.filter((c) => (CHECKS.assertions as readonly string[]).includes(c.name));
  const assertionsPass = assertions.length > 0 && assertions.every((c) => c.passed);
  if (publish && (report.status === 'verified' || (publish.when === 'assertions-pass' && assertionsPass))) {
    return {
      ...report,
      packageDir,
      publishedTo: await catalogActivities.publishTask({ packageDir, catalogDir: publish.catalogDir }),
    };
  }
  return { ...report, packageDir };
}
