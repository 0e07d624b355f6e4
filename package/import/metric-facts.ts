import { METRICS } from '../../domain/metrics';
import type { TaskType } from '../../domain/task';

export interface MetricFacts {
  /** a metric of domain/metrics.ts, whose direction and bounds Anvil knows */
  known?: keyof typeof METRICS;
  taskType?: TaskType;
}

const METRIC_NAMES: Array<[RegExp, MetricFacts]> = [
  [
    /^(accuracy|categorization-accuracy|classification-accuracy)$/,
    { known: 'accuracy', taskType: 'multiclass-classification' },
  ],
  [
    /^(roc-?auc|auc-?roc|auroc|auc|roc-auc-score|area-under-(the-)?roc-curve)$/,
    { known: 'roc-auc', taskType: 'binary-classification' },
  ],
  [/^(log-?loss|multi-?class-log-?loss|cross-entropy)$/, { known: 'log-loss', taskType: 'multiclass-classification' }],
  [/^(macro-f1|f1-macro)$/, { known: 'macro-f1', taskType: 'multiclass-classification' }],
  [/^(rmse|root-mean-squared-error)$/, { known: 'rmse', taskType: 'regression' }],
  [/^(mae|mean-absolute-error)$/, { known: 'mae', taskType: 'regression' }],
  [/^(rmsle|root-mean-squared-log(arithmic)?-error)$/, { known: 'rmsle', taskType: 'regression' }],
  [/(^|-)(map|ndcg|mrr)(@|-at-|-?\d|$)/, { taskType: 'ranking' }],
  [/(rmse|rmsle|mse|mae|mape|smape|r2|squared|absolute|error|spearman|pearson)/, { taskType: 'regression' }],
  [/(accuracy|auc|f1|kappa|qwk|mcc|log-?loss|precision|recall)/, { taskType: 'multiclass-classification' }],
];

/** What a metric's name says about its direction, bounds and task type. */
export function metricFacts(name: string): MetricFacts {
  const normalized = name.toLowerCase().replace(/[\s_]+/g, '-');
  return METRIC_NAMES.find(([pattern]) => pattern.test(normalized))?.[1] ?? {};
}

/** MLE-bench's rule (Grader.is_lower_better): lower is better when the top entry scores below the bottom one. */
export function higherIsBetterFromLeaderboard(scores: number[]): boolean | undefined {
  if (scores.length < 2 || scores[0] === scores.at(-1)) return undefined;
  return !(scores[0]! < scores.at(-1)!);
}
