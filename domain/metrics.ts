import type { MetricSpec, TaskType } from './task';

interface MetricInfo {
  higherIsBetter: boolean;
  bounds: [number | null, number | null];
  fits: TaskType[];
  /** one sentence for description.md */
  explain: string;
}

const CLASSIFICATION: TaskType[] = ['binary-classification', 'multiclass-classification'];
const REGRESSION: TaskType[] = ['regression', 'forecasting'];

/** The metrics the Forge writes, and which task types each one suits. */
export const METRICS: Record<string, MetricInfo> = {
  accuracy: {
    higherIsBetter: true,
    bounds: [0, 1],
    fits: CLASSIFICATION,
    explain: 'the fraction of rows whose predicted label equals the true label (higher is better, 0 to 1)',
  },
  'macro-f1': {
    higherIsBetter: true,
    bounds: [0, 1],
    fits: CLASSIFICATION,
    explain:
      'the F1 score averaged over classes with equal weight, so rare classes count as much as common ones (higher is better, 0 to 1)',
  },
  'roc-auc': {
    higherIsBetter: true,
    bounds: [0, 1],
    fits: ['binary-classification'],
    explain:
      'the area under the ROC curve of your predicted probabilities of the positive class (higher is better, 0.5 is chance, 1 is perfect)',
  },
  'log-loss': {
    higherIsBetter: false,
    bounds: [0, null],
    fits: CLASSIFICATION,
    explain: 'the mean negative log-likelihood of the true class under your predicted probabilities (lower is better)',
  },
  rmse: {
    higherIsBetter: false,
    bounds: [0, null],
    fits: REGRESSION,
    explain: 'the root mean squared error between predicted and true values (lower is better, 0 is perfect)',
  },
  mae: {
    higherIsBetter: false,
    bounds: [0, null],
    fits: REGRESSION,
    explain: 'the mean absolute error between predicted and true values (lower is better, 0 is perfect)',
  },
  rmsle: {
    higherIsBetter: false,
    bounds: [0, null],
    fits: REGRESSION,
    explain:
      'the root mean squared error between log(1 + prediction) and log(1 + truth), which weighs relative rather than absolute errors (lower is better, 0 is perfect)',
  },
  'micro-f1': {
    higherIsBetter: true,
    bounds: [0, 1],
    fits: CLASSIFICATION,
    explain: 'the F1 score over all predictions pooled, so common classes weigh most (higher is better, 0 to 1)',
  },
  qwk: {
    higherIsBetter: true,
    bounds: [-1, 1],
    fits: ['multiclass-classification', 'regression'],
    explain:
      "Cohen's kappa with quadratic weights between predicted and true ordinal grades: agreement beyond chance, where a far miss costs more than a near one (higher is better, 1 is perfect, 0 is chance)",
  },
  'map@k': {
    higherIsBetter: true,
    bounds: [0, 1],
    fits: CLASSIFICATION,
    explain:
      'mean average precision of your ranked, space-separated guesses per row: a right label at rank r scores 1/r (higher is better, 0 to 1)',
  },
  r2: {
    higherIsBetter: true,
    bounds: [null, 1],
    fits: REGRESSION,
    explain:
      'the coefficient of determination: the share of the variance of the truth your predictions explain (higher is better, 1 is perfect, 0 is predicting the mean)',
  },
  mape: {
    higherIsBetter: false,
    bounds: [0, null],
    fits: REGRESSION,
    explain: 'the mean absolute error relative to the true value (lower is better, 0 is perfect)',
  },
  smape: {
    higherIsBetter: false,
    bounds: [0, 2],
    fits: REGRESSION,
    explain:
      'the symmetric mean absolute percentage error, |prediction - truth| / ((|prediction| + |truth|) / 2) averaged over rows (lower is better, 0 to 2)',
  },
  mase: {
    higherIsBetter: false,
    bounds: [0, null],
    fits: ['forecasting'],
    explain:
      "the mean absolute scaled error: each row's absolute error divided by its series' mean absolute one-step change over the training period, averaged (lower is better; below 1 beats repeating the previous value one step ahead)",
  },
  mcrmse: {
    higherIsBetter: false,
    bounds: [0, null],
    fits: REGRESSION,
    explain:
      'the root mean squared error of each target column, averaged over the columns (lower is better, 0 is perfect)',
  },
  'mean-column-auc': {
    higherIsBetter: true,
    bounds: [0, 1],
    fits: ['binary-classification', 'multiclass-classification'],
    explain: 'the ROC AUC of each target column, averaged over the columns (higher is better, 0.5 is chance)',
  },
};

/** Other spellings of the metrics above (scikit-learn's, Kaggle's), after `normalMetricName`. */
const ALIASES: Record<string, string> = {
  'roc-auc-score': 'roc-auc',
  auc: 'roc-auc',
  rocauc: 'roc-auc',
  'accuracy-score': 'accuracy',
  'f1-macro': 'macro-f1',
  'f1-micro': 'micro-f1',
  logloss: 'log-loss',
  'cross-entropy': 'log-loss',
  'quadratic-weighted-kappa': 'qwk',
  'cohen-kappa-quadratic': 'qwk',
  'r2-score': 'r2',
  'r-squared': 'r2',
  'root-mean-squared-error': 'rmse',
  'mean-absolute-error': 'mae',
  'root-mean-squared-log-error': 'rmsle',
  'mean-absolute-percentage-error': 'mape',
  'mean-absolute-scaled-error': 'mase',
  'mean-columnwise-rmse': 'mcrmse',
  'column-averaged-auc': 'mean-column-auc',
};

/** A metric name as compared: lower case, `_` and spaces as `-`, `map@5` as `map@k`. */
export function normalMetricName(name: string): string {
  const plain = name
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
  return /^map@\d+$/.test(plain) ? 'map@k' : plain;
}

/** What the Forge knows of a metric under any of its spellings; undefined for a name it does not know. */
export function knownMetric(name: string): (MetricInfo & { canonical: string }) | undefined {
  const plain = normalMetricName(name);
  const canonical = METRICS[plain] ? plain : ALIASES[plain];
  return canonical ? { ...METRICS[canonical]!, canonical } : undefined;
}

/** The Forge's own name for a metric it knows under another spelling; any other name as it is. */
export function canonicalMetricName(name: string): string {
  return knownMetric(name)?.canonical ?? name;
}

export function metricSpec(name: keyof typeof METRICS): MetricSpec {
  const info = METRICS[name]!;
  return { name, higherIsBetter: info.higherIsBetter, bounds: info.bounds };
}

/** The best value a metric can reach, when it is bounded on that side. */
export function bestScore(metric: MetricSpec): number | null {
  const [low, high] = metric.bounds ?? [null, null];
  return metric.higherIsBetter ? high : low;
}

/** true when `a` is a better score than `b` under this metric */
export function better(metric: MetricSpec, a: number, b: number): boolean {
  return metric.higherIsBetter ? a > b : a < b;
}

/**
 * How much of the way from the trivial score to the best possible one a score gets (0 = trivial,
 * 1 = perfect). For unbounded lower-is-better metrics the best is 0.
 */
export function improvementOver(metric: MetricSpec, score: number, trivial: number): number {
  const best = bestScore(metric) ?? 0;
  const gap = best - trivial;
  return gap === 0 ? 0 : (score - trivial) / gap;
}
