import type { MetricSpec, Modality, TaskType } from './task';
import type { CheckResult } from './verification';

/**
 * The reference ladder: solutions of known, graded strength that every verified task runs, so its
 * leaderboard spans weak to strong (issue 12). Each rung is the one Python template
 * (sandbox/harness/ladder_rung.py) with a row of this table as its CONFIG.
 */
export type RungModel =
  | 'prior'
  | 'linear'
  | 'naive-bayes'
  | 'knn'
  | 'tree'
  | 'forest'
  | 'extra-trees'
  | 'boosting'
  /** several boosted models on seeded 80% samples, averaged */
  | 'bagged-boosting'
  /** boosting averaged with the models its params name: forest, extra (trees), leaves (small-leaf boosting), linear */
  | 'blend'
  /**
   * text tasks: TF-IDF of the text columns (params: words = vocabulary size, ngrams = longest n-gram,
   * char = 1 for character n-grams) with multinomial naive Bayes, a linear model (C = 1/alpha) or a linear SVM
   */
  | 'tfidf-nb'
  | 'tfidf-linear'
  | 'tfidf-svm';

export interface Rung {
  /** the script's file name under solutions/ladder/, without `.py`; the leaderboard entry is `ladder/<name>` */
  name: string;
  model: RungModel;
  /** the model's hyper-parameters, as the template reads them */
  params: Record<string, number>;
  /** which features: all, the k most informative (`top`), or the least informative half */
  features: 'all' | 'top' | 'bottom-half';
  /** with features `top`: how many */
  top?: number;
  /** standardise numeric features (linear models and kNN) */
  scale: boolean;
  /** the share of train rows it learns from (seeded sample) */
  trainFraction: number;
  /** expensive rungs learn from at most this many rows */
  maxRows: number;
}

/** Below this many valid rungs the task is rejected (`ladder.enough_rungs`). */
export const MIN_VALID_RUNGS = 10;
/** How many rungs run at once; the cpu workers' slots bound it further. */
export const LADDER_WINDOW = 4;
/**
 * The rungs dealt round-robin into at most `window` lanes (each lane one activity, its rungs one
 * after another in one container): the table runs weak to strong, so the expensive rungs, last, spread.
 */
export const ladderLanes = (rungs: string[], window = LADDER_WINDOW): string[][] =>
  Array.from({ length: Math.min(window, rungs.length) }, (_, i) => rungs.filter((_, j) => j % window === i));
/** Each rung's wall-clock limit in the sandbox (s); a rung is small by design. */
export const RUNG_TIMEOUT_S = 180;
/** The leaderboard entry of a rung. */
export const rungEntry = (name: string) => `ladder/${name}`;

const ALL = 20_000;
const CAPPED = 5_000;

const rung = (
  name: string,
  model: RungModel,
  params: Record<string, number> = {},
  more: Partial<Omit<Rung, 'name' | 'model' | 'params'>> = {},
): Rung => ({ name, model, params, features: 'all', scale: false, trainFraction: 1, maxRows: ALL, ...more });

/** Naive Bayes fits classification only; regression gets a strongly shrunk linear model in its place. */
function naiveBayesOr(taskType: TaskType): Rung {
  return taskType.endsWith('classification')
    ? rung('naive-bayes', 'naive-bayes', {}, { scale: true })
    : rung('linear-shrunk-hard', 'linear', { alpha: 10_000 }, { scale: true });
}

/**
 * The ladder for a task type, weakest (by design) first. Classification and regression share the
 * table: `linear` is logistic regression (C = 1/alpha) for classification and ridge for regression.
 */
export function ladderRungs(taskType: TaskType): Rung[] {
  return [
    rung('prior', 'prior'),
    rung('one-feature-stump', 'tree', { depth: 1 }, { features: 'top', top: 1 }),
    rung('two-features-linear', 'linear', { alpha: 1 }, { features: 'top', top: 2, scale: true }),
    naiveBayesOr(taskType),
    rung('linear-raw', 'linear', { alpha: 1, iterations: 30 }),
    rung('linear-scaled', 'linear', { alpha: 1 }, { scale: true }),
    rung('knn-1', 'knn', { k: 1 }, { scale: true, maxRows: CAPPED }),
    rung('knn-5', 'knn', { k: 5 }, { scale: true, maxRows: CAPPED }),
    rung('knn-15', 'knn', { k: 15 }, { scale: true, maxRows: CAPPED }),
    rung('tree-depth-2', 'tree', { depth: 2 }),
    rung('tree-depth-4', 'tree', { depth: 4 }),
    rung('tree-full', 'tree', { depth: 0 }),
    rung('forest-10', 'forest', { trees: 10, depth: 6 }, { maxRows: CAPPED }),
    rung('boosting-20', 'boosting', { iterations: 20, rate: 0.1 }),
    rung('boosting-100', 'boosting', { iterations: 100, rate: 0.1 }),
    rung('half-features-boosting', 'boosting', { iterations: 100, rate: 0.1 }, { features: 'bottom-half' }),
    rung('half-features-linear', 'linear', { alpha: 1 }, { features: 'bottom-half', scale: true }),
    rung('train-10pct-boosting', 'boosting', { iterations: 100, rate: 0.1 }, { trainFraction: 0.1 }),
    rung('train-30pct-boosting', 'boosting', { iterations: 100, rate: 0.1 }, { trainFraction: 0.3 }),
    // above a default boosted model (the Forge's baseline): small leaves, bags and blends of diverse models
    rung('forest-150', 'forest', { trees: 150, depth: 0 }, { maxRows: CAPPED }),
    rung('extra-trees-150', 'extra-trees', { trees: 150, depth: 0 }, { maxRows: CAPPED }),
    rung('boosting-small-leaves', 'boosting', { iterations: 400, rate: 0.05, leaf: 5 }, { maxRows: CAPPED }),
    rung('bagged-boosting-8', 'bagged-boosting', { bags: 8, iterations: 150, rate: 0.07 }, { maxRows: CAPPED }),
    rung('blend-boosting-forest', 'blend', { forest: 1 }, { maxRows: CAPPED }),
    rung('blend-boosting-extra', 'blend', { extra: 1 }, { maxRows: CAPPED }),
    rung('blend-trees', 'blend', { forest: 1, extra: 1, leaves: 1 }, { maxRows: CAPPED }),
    rung(
      'blend-trees-linear',
      'blend',
      { forest: 1, extra: 1, leaves: 1, linear: 1 },
      { scale: true, maxRows: CAPPED },
    ),
  ];
}

/**
 * The ladder of a text task (modality `text`): the tabular rungs see no free text, so each rung here is
 * TF-IDF with a linear model at a graded setting, weakest (by design) first. Regression reads naive
 * Bayes as a strongly shrunk ridge and the SVM as a linear SVR.
 */
export function textLadderRungs(): Rung[] {
  return [
    rung('prior', 'prior'),
    rung('tfidf-50-words-nb', 'tfidf-nb', { words: 50, alpha: 1 }),
    rung('tfidf-500-words-nb', 'tfidf-nb', { words: 500, alpha: 1 }),
    rung('tfidf-nb', 'tfidf-nb', { words: 20_000, alpha: 0.1 }),
    rung('tfidf-linear-shrunk', 'tfidf-linear', { words: 20_000, alpha: 1000 }),
    rung('tfidf-linear-10', 'tfidf-linear', { words: 20_000, alpha: 10 }),
    rung('tfidf-linear', 'tfidf-linear', { words: 20_000, alpha: 1 }),
    rung('tfidf-bigrams-linear', 'tfidf-linear', { words: 50_000, ngrams: 2, alpha: 0.25 }),
    rung('tfidf-svm-shrunk', 'tfidf-svm', { words: 20_000, alpha: 100 }),
    rung('tfidf-svm', 'tfidf-svm', { words: 20_000, alpha: 1 }),
    rung('tfidf-bigrams-svm', 'tfidf-svm', { words: 50_000, ngrams: 2, alpha: 0.5 }),
    rung('tfidf-chars-linear', 'tfidf-linear', { words: 20_000, ngrams: 3, char: 1, alpha: 1 }),
    rung('train-10pct-tfidf-linear', 'tfidf-linear', { words: 20_000, alpha: 1 }, { trainFraction: 0.1 }),
    rung('train-30pct-tfidf-svm', 'tfidf-svm', { words: 20_000, alpha: 1 }, { trainFraction: 0.3 }),
  ];
}

/** The rungs a task runs: the text ladder for a text task, else the table's. */
export function rungsFor(taskType: TaskType, modality?: Modality): Rung[] {
  return modality === 'text' ? textLadderRungs() : ladderRungs(taskType);
}

/** What one rung came to: a score on the board, or why it is off it. */
export interface RungResult {
  rung: string;
  score?: number;
  /** crashed, timed out, invalid submission, or worse than the sample submission */
  error?: string;
  wallMs?: number;
  /** its run's CPU time (user + system), where known: its cost on a quiet machine */
  cpuMs?: number;
}

/** The rungs that made the board. */
export const validRungs = (results: RungResult[]) =>
  results.filter((r): r is RungResult & { score: number } => r.score !== undefined && r.error === undefined);

/** Rungs that score worse than the sample submission are no reference: off the board, with that reason. */
export function offBelowTrivial(
  results: RungResult[],
  trivial: number | undefined,
  metric: Pick<MetricSpec, 'higherIsBetter'>,
): RungResult[] {
  if (trivial === undefined) return results;
  return results.map((r) =>
    r.score !== undefined && r.error === undefined && (metric.higherIsBetter ? r.score < trivial : r.score > trivial)
      ? { ...r, error: `scored ${r.score}, worse than the sample submission's ${trivial}` }
      : r,
  );
}

/** `ladder.enough_rungs`: at least MIN_VALID_RUNGS rungs gave a valid submission; the others with their reasons. */
export function ladderCheck(results: RungResult[]): CheckResult {
  const valid = validRungs(results);
  const off = results.filter((r) => !valid.includes(r as never)).map((r) => ({ rung: r.rung, why: r.error }));
  const passed = valid.length >= MIN_VALID_RUNGS;
  const detail = passed
    ? `${valid.length} of ${results.length} reference rungs made the board${off.length ? ` (${off.length} left off)` : ''}`
    : `only ${valid.length} of ${results.length} reference rungs gave a valid submission (needs ${MIN_VALID_RUNGS}): ` +
      'make train.csv/test.csv plain tables a scikit-learn model can learn from; the evidence lists each failure';
  return { name: 'ladder.enough_rungs', passed, detail, ...(off.length ? { evidence: { off } } : {}) };
}
