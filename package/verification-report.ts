import { writeFile } from 'node:fs/promises';
import type { VerificationReport } from '../domain/verification';
import { packagePaths } from './layout';

/** verification.json: the verifier's report, kept in the package. */
export async function writeVerificationReport(packageDir: string, report: VerificationReport): Promise<void> {
  await writeFile(packagePaths(packageDir).verification, `${JSON.stringify(report, null, 2)}\n`);
}
