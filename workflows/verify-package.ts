import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ProviderName } from '../agents/providers';
import { SEARCH } from '../domain/search-attributes';
import type { VerificationReport } from '../domain/verification';
import { catalogActivities } from './activity-proxies';
import { verifyPackageDir } from './verification';

export interface VerifyPackageInput {
  /** a task package folder, hand-written or forged; it is copied, never changed */
  sourceDir: string;
  provider?: ProviderName;
}

/** `anvil verify`: the full verification of any package folder, on a copy in the artifact store. */
export async function verifyPackage({ sourceDir, provider = 'heuristic' }: VerifyPackageInput): Promise<VerificationReport & { packageDir: string }> {
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([{ key: SEARCH.stage, value: 'verify' }]);
  const packageDir = await catalogActivities.stagePackage({ sourceDir, key: workflowId });
  const { report } = await verifyPackageDir(packageDir, { provider });
  await catalogActivities.writeReport({ packageDir, report, provenance: { workflowId, provider } });
  upsertSearchAttributes([{ key: SEARCH.verdict, value: report.status }]);
  return { ...report, packageDir };
}
