import type { CandidateTarget, DatasetProfile } from '../../domain/profile';
import { metricSpec } from '../../domain/metrics';
import type { MetricSpec, Modality } from '../../domain/task';
import type { TaskProposal } from '../../domain/proposal';
import type { BrainstormInput } from '../roles';

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The metric that fits the target's domain, and why (the description says it). */
function metricFor(c: CandidateTarget, profile: DatasetProfile): { metric: MetricSpec; why: string } {
  const column = profile.columns.find((col) => col.name === c.column);
  if (c.taskType === 'binary-classification') {
    const counts = (column?.top ?? []).map((t) => t.count);
    const minority = counts.length ? Math.min(...counts) / counts.reduce((a, b) => a + b, 0) : 0.5;
    return {
      metric: metricSpec('roc-auc'),
      why:
        minority < 0.3
          ? `ROC-AUC, because the rarer class is only ${pct(minority)} of rows: accuracy would reward always guessing the other`
          : 'ROC-AUC, because it judges how well the predicted probabilities rank the two classes at every threshold',
    };
  }
  if (c.taskType === 'multiclass-classification') {
    const counts = (column?.top ?? []).map((t) => t.count);
    const ratio = counts.length ? Math.min(...counts) / Math.max(...counts) : 1;
    return ratio >= 0.5
      ? {
          metric: metricSpec('accuracy'),
          why: `accuracy, because the ${counts.length} classes are balanced (the smallest is ${pct(ratio)} of the largest)`,
        }
      : {
          metric: metricSpec('macro-f1'),
          why: `macro-F1, because the classes are imbalanced (the smallest is ${pct(ratio)} of the largest): every class counts equally, so the rare ones cannot be ignored`,
        };
  }
  if (c.taskType === 'forecasting') {
    const many = profile.keyColumns.some((k) => k !== profile.timeIndex && k !== c.column);
    return {
      metric: metricSpec('mase'),
      why: `MASE, because it judges a forecast against repeating the last known value${many ? ", in each series' own scale, so series of different sizes count alike" : ', in units of how much the series moves from one step to the next'}`,
    };
  }
  const stats = column?.stats;
  // Positive amounts spanning orders of magnitude (prices, counts, deaths) are judged on relative error.
  if (stats && stats.min >= 0 && (stats.max > 20 * Math.max(stats.mean, 1e-9) || stats.std > 1.5 * stats.mean))
    return {
      metric: metricSpec('rmsle'),
      why: `RMSLE, because "${c.column}" is a positive amount spread over orders of magnitude (${stats.min} to ${stats.max}, mean ${+stats.mean.toPrecision(3)}): errors count relative to the size of the value, so the few largest do not dominate`,
    };
  return {
    metric: metricSpec('rmse'),
    why: `RMSE, because "${c.column}" is a measurement on an even scale where large errors matter most`,
  };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** What the task's inputs are: a series forecast along time, free text beside the target, or a table. */
function modalityOf(c: CandidateTarget, profile: DatasetProfile): Modality {
  if (profile.images) return 'image';
  if (c.taskType === 'forecasting' && (profile.timeIndex ?? profile.timeColumns[0])) return 'time-series';
  if (profile.textColumns.some((t) => t !== c.column)) return 'text';
  return 'tabular';
}

/**
 * Up to `maxTasks` formulations, one per candidate target (so each is distinct), in the profile's
 * order: what the data was collected to predict first (a time-indexed series is forecast first);
 * intake has already set aside identifiers, coordinates, date parts, keys, schedule indicators,
 * derived columns and, once an outcome exists, the inputs that explain it. Without an outcome, only
 * the best guess (the last column, a sole label among measurements…) is proposed.
 */
export function brainstorm({ profile, maxTasks }: BrainstormInput): TaskProposal[] {
  const seen = new Set<string>();
  const proposals: TaskProposal[] = [];
  // With no outcome known (no name, README or time index says what the data is for), one best guess.
  const limit = profile.candidateTargets.some((c) => c.outcome) ? maxTasks : Math.min(1, maxTasks);
  for (const c of profile.candidateTargets) {
    if (proposals.length >= limit) break;
    if (seen.has(c.column)) continue;
    seen.add(c.column);
    const { metric, why } = metricFor(c, profile);
    const verb = c.taskType.endsWith('classification')
      ? 'classify'
      : c.taskType === 'forecasting'
        ? 'forecast'
        : 'predict';
    proposals.push({
      id: slug(`${profile.name}-${c.column}`).slice(0, 80),
      title: `${profile.name}: ${verb} ${c.column}`,
      target: c.column,
      taskType: c.taskType,
      modality: modalityOf(c, profile),
      metric,
      rationale: `${c.outcome ? 'What the data was collected to predict' : 'A column worth predicting'} (${c.reason}). Scored with ${why}`,
    });
  }
  return proposals;
}
