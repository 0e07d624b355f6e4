import type { CandidateTarget, DatasetProfile } from '../../domain/profile';
import { metricSpec } from '../../domain/metrics';
import type { Modality } from '../../domain/task';
import type { TaskProposal } from '../../domain/proposal';
import type { BrainstormInput } from '../roles';

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

function metricFor(c: CandidateTarget, profile: DatasetProfile) {
  if (c.taskType === 'binary-classification') return metricSpec('roc-auc');
  if (c.taskType === 'multiclass-classification') {
    // Balanced classes: plain accuracy says it best; imbalanced ones need every class to count.
    const counts = (profile.columns.find((col) => col.name === c.column)?.top ?? []).map((t) => t.count);
    return counts.length > 0 && Math.min(...counts) >= 0.5 * Math.max(...counts)
      ? metricSpec('accuracy')
      : metricSpec('macro-f1');
  }
  if (c.taskType === 'forecasting') return metricSpec('mae');
  // Positive, strongly skewed targets (prices, counts) are judged on relative error.
  const stats = profile.columns.find((col) => col.name === c.column)?.stats;
  return stats && stats.min >= 0 && stats.max > 20 * Math.max(stats.mean, 1e-9)
    ? metricSpec('rmsle')
    : metricSpec('rmse');
}

function modalityOf(c: CandidateTarget, profile: DatasetProfile): Modality {
  if (profile.textColumns.length > 0) return 'text';
  if (profile.timeColumns.length > 0 && c.taskType === 'forecasting') return 'time-series';
  return 'tabular';
}

/** Up to `maxTasks` formulations, one per candidate target (so each is distinct), best first. */
export function brainstorm({ profile, maxTasks }: BrainstormInput): TaskProposal[] {
  const seen = new Set<string>();
  const proposals: TaskProposal[] = [];
  for (const c of profile.candidateTargets) {
    if (proposals.length >= maxTasks) break;
    if (seen.has(c.column)) continue;
    seen.add(c.column);
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
      metric: metricFor(c, profile),
      rationale: c.reason,
    });
  }
  return proposals;
}
