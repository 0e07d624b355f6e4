import { importMleBench } from './mle-bench';
import { importMleDojo } from './mle-dojo';
import type { ImportOptions, ImportResult, SourceKind } from './types';

// Converting benchmark competition folders (MLE-bench, MLE-Dojo) into Anvil task packages.

export const IMPORTERS: Record<SourceKind, (competitionDir: string, opts: ImportOptions) => Promise<ImportResult>> = {
  'mle-bench': importMleBench,
  'mle-dojo': importMleDojo,
};

export { ImportError } from './import-error';
export { IMPORT_EXIT_CODES, type ImportOutcome, importOutcome, type ImportStatus } from './outcome';
export type { ImportOptions, ImportResult, SourceKind } from './types';
