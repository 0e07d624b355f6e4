import { CHECKS, type VerificationReport } from '../../domain/verification';
import { packagePaths } from '../layout';
import type { ImportResult } from './types';

/**
 * How an import ended. `published`: in the catalog, perhaps with warnings (what the importer
 * guessed, and the checks that failed without blocking it, e.g. the placeholder baseline's);
 * `rejected`: not published, because a check on its data or metric failed (`failed`).
 */
export type ImportStatus = 'published' | 'rejected';

export interface ImportOutcome {
  taskId: string;
  status: ImportStatus;
  /** the task's folder in the catalog, when published */
  publishedTo?: string;
  /** the checks that kept it out of the catalog (none when published) */
  failed: { name: string; detail: string }[];
  warnings: string[];
  /** the full verification report */
  report: string;
}

/** Exit codes: 0 published (warnings or not), 1 rejected. */
export const IMPORT_EXIT_CODES: Record<ImportStatus, number> = { published: 0, rejected: 1 };

const BLOCKING: readonly string[] = CHECKS.assertions;

/** The outcome of an imported package's verification run, which published it or not. */
export function importOutcome(
  imported: ImportResult,
  verified: VerificationReport & { packageDir: string; publishedTo?: string },
): ImportOutcome {
  const failed = verified.checks.filter((c) => !c.passed);
  const blocking = failed.filter((c) => BLOCKING.includes(c.name));
  const passedOver = failed.filter((c) => !BLOCKING.includes(c.name)).map((c) => `check ${c.name} failed: ${c.detail}`);
  const common = {
    taskId: imported.taskId,
    warnings: [...imported.warnings, ...passedOver],
    report: packagePaths(verified.packageDir).verification,
  };
  if (verified.publishedTo) return { ...common, status: 'published', publishedTo: verified.publishedTo, failed: [] };
  // defensive: were no data or metric check among the failures, every failure is a reason
  const reasons = blocking.length > 0 ? blocking : failed;
  return { ...common, status: 'rejected', failed: reasons.map(({ name, detail }) => ({ name, detail })) };
}
