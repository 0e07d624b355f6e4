import type { TaskType } from '../../domain/task';

export type SourceKind = 'mle-bench' | 'mle-dojo';

export const SOURCE_NAMES: Record<SourceKind, string> = { 'mle-bench': 'MLE-bench', 'mle-dojo': 'MLE-Dojo' };

export interface ImportOptions {
  /** the package is written to outDir/<taskId> (outDir is created) */
  outDir: string;
  /** the competition's raw files (what Kaggle ships, unpacked); default <competitionDir>/raw */
  rawDir?: string;
  /** default: the competition id, slugified */
  taskId?: string;
  /** default: the second column of the description's submission format */
  target?: string;
  /** default: the first column of the description's submission format */
  idColumn?: string;
  /** default: from the metric (and the target's values in the raw data), else 'other' */
  taskType?: TaskType;
}

export interface ImportResult {
  packageDir: string;
  taskId: string;
  /** what the importer guessed or left for a person to finish */
  warnings: string[];
}

/** A scored row of the source's leaderboard: a human entry of the task's leaderboard. */
export interface HumanEntry {
  entry: string;
  /** as the source wrote it */
  score: string;
  board: 'public' | 'private';
}

/** What an importer read from the competition folder, ready to be written as a package. */
export interface ConvertedCompetition {
  kind: SourceKind;
  competitionId: string;
  title: string;
  description: string;
  metric: { name: string; higherIsBetter: boolean };
  prepareCode: string;
  metricCode: string;
  leaderboard: HumanEntry[];
  warnings: string[];
}
