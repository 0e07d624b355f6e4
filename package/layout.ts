import { join } from 'node:path';

/**
 * Where each part of a task package lives, relative to the package's folder. Only package/ spells
 * these names; everything else asks for `packagePaths(dir).<part>`.
 */
export const LAYOUT = {
  /** the manifest (domain/task.ts: taskManifestSchema) */
  manifest: 'task.json',
  description: 'description.md',
  /** prepare(raw, public, private): writes public/ and private/ from raw/ */
  prepare: 'prepare.py',
  /** grade(submission, answers) */
  metric: 'metric.py',
  solutions: 'solutions',
  /** the reference solution verification runs */
  baseline: 'solutions/baseline.py',
  /** the reference ladder's scripts, one per rung: `solutions/ladder/<rung>.py` (domain/ladder.ts) */
  ladder: 'solutions/ladder',
  /** the data as the source ships it */
  raw: 'raw',
  /** the single table of a forged or synthetic task's raw/ */
  rawTable: 'raw/data.csv',
  /** what an agent sees: written by prepare.py */
  public: 'public',
  train: 'public/train.csv',
  test: 'public/test.csv',
  sampleSubmission: 'public/sample_submission.csv',
  /** what only the grader sees: written by prepare.py */
  private: 'private',
  answers: 'private/answers.csv',
  /** a synthetic task's noise-free labels, graded as the oracle */
  oracle: 'private/oracle.csv',
  /** a synthetic task's data generator, which writes raw/ */
  generator: 'generator.py',
  /** human entries, reference scores and medal thresholds (package/leaderboard.ts) */
  leaderboard: 'leaderboard.csv',
  /** the verifier's report */
  verification: 'verification.json',
  /** a draft's design notes for the next repair round; never published */
  designNotes: 'design.json',
  /** the links and special files staging found in a package and did not copy (package/links.ts) */
  refusedLinks: 'refused-links.json',
} as const;

export type PackagePart = keyof typeof LAYOUT;
export type PackagePaths = { readonly [K in PackagePart]: string };

/** The script of one ladder rung, relative to the package's folder. */
export const ladderScript = (rung: string) => `${LAYOUT.ladder}/${rung}.py`;

/** The absolute path of every part of the package at `dir`. */
export function packagePaths(dir: string): PackagePaths {
  return Object.fromEntries(Object.entries(LAYOUT).map(([part, rel]) => [part, join(dir, rel)])) as PackagePaths;
}

/** The files every package must have, beside a non-empty raw/ (public/ and private/ are made by prepare.py). */
export const PACKAGE_FILES = [
  LAYOUT.manifest,
  LAYOUT.description,
  LAYOUT.prepare,
  LAYOUT.metric,
  LAYOUT.baseline,
] as const;
/** What prepare.py must write into public/ and private/. */
export const PUBLIC_FILES = ['train.csv', 'test.csv', 'sample_submission.csv'] as const;
export const PRIVATE_FILES = ['answers.csv'] as const;

/** Folders of a package that are data, not authored files. */
export const DATA_DIRS: readonly string[] = [LAYOUT.raw, LAYOUT.public, LAYOUT.private];
/** What verification makes; a staged copy starts without them (leaderboard.csv stays: its human entries are kept). */
export const MADE_BY_VERIFICATION: readonly string[] = [
  LAYOUT.public,
  LAYOUT.private,
  LAYOUT.verification,
  LAYOUT.designNotes,
  LAYOUT.refusedLinks,
];
