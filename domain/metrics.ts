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
};

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
