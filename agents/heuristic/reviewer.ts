import { knownMetric } from '../../domain/metrics';
import type { TaskManifest } from '../../domain/task';
import type { CheckResult } from '../../domain/verification';
import type { ReviewInput } from '../roles';

const SECTIONS: [string, RegExp][] = [
  ['overview', /^#+\s*(overview|introduction|background)/im],
  ['data', /^#+\s*(data|dataset|files)/im],
  ['evaluation', /^#+\s*(evaluation|metric|scoring)/im],
  ['submission format', /^#+\s*submission/im],
];

/** The Reviewer's rubric, applied by rules. */
export function review({
  manifest,
  description,
  trainColumns,
  testColumns,
  targetCounts,
  profile,
}: ReviewInput): CheckResult[] {
  const missingSections = SECTIONS.filter(([, re]) => !re.test(description)).map(([name]) => name);
  const undocumented = trainColumns.filter((c) => !description.includes(c));
  const descriptionComplete: CheckResult = {
    name: 'review.description_complete',
    passed: missingSections.length === 0 && undocumented.length === 0,
    detail: missingSections.length
      ? `description.md lacks: ${missingSections.join(', ')}`
      : undocumented.length
        ? `description.md does not mention columns: ${undocumented.join(', ')}`
        : 'all sections present and every column documented',
    evidence: { missingSections, undocumented },
  };

  const metricFits = metricFitCheck(manifest);

  const column = profile?.columns.find((c) => c.name === manifest.target);
  const problems: string[] = [];
  if (!trainColumns.includes(manifest.target)) problems.push(`train.csv has no column ${manifest.target}`);
  if (column && ['id', 'constant', 'text', 'datetime'].includes(column.kind))
    problems.push(`the target is a ${column.kind} column`);
  if (column && column.missing > 0.3)
    problems.push(`${Math.round(column.missing * 100)}% of target values are missing`);
  if (targetCounts && manifest.taskType.endsWith('classification')) {
    const counts = Object.values(targetCounts);
    const total = counts.reduce((a, b) => a + b, 0);
    if (counts.length < 2) problems.push('train.csv holds a single class');
    else if (Math.min(...counts) / total < 0.01)
      problems.push(`a class has under 1% of the training rows (${JSON.stringify(targetCounts)})`);
  }
  if (column?.stats && column.stats.std === 0) problems.push('the target never varies');
  const targetMeaningful: CheckResult = {
    name: 'review.target_meaningful',
    passed: problems.length === 0,
    detail: problems.join('; ') || `${manifest.target} is a meaningful target`,
  };

  // Columns the profile found nearly determining the target must not reach the solver.
  const leaking = (profile?.leakageSuspects ?? []).filter(
    (s) => s.target === manifest.target && (trainColumns.includes(s.column) || testColumns.includes(s.column)),
  );
  const mentionsPrivate = /answers\.csv|private\//i.test(description);
  const noHints: CheckResult = {
    name: 'review.no_answer_hints',
    passed: leaking.length === 0 && !mentionsPrivate,
    detail: leaking.length
      ? `public files keep columns that nearly determine ${manifest.target}: ${leaking.map((s) => `${s.column} (${s.reason})`).join('; ')}`
      : mentionsPrivate
        ? 'description.md refers to the private answers'
        : 'no column or text gives the answer away',
    evidence: { columns: leaking.map((s) => s.column) },
  };
  return [descriptionComplete, metricFits, targetMeaningful, noHints];
}

/**
 * `review.metric_fits` by what the name says: a metric the Forge knows under any spelling
 * (`roc_auc`, `QWK`, `map@5`) must suit the task type and direction. Any other name passes here:
 * the `metric.behaviour` assertion judges what metric.py does, whatever it is called.
 */
function metricFitCheck({ metric, taskType }: TaskManifest): CheckResult {
  const name = 'review.metric_fits';
  const info = knownMetric(metric.name);
  if (!info) {
    return {
      name,
      passed: true,
      detail: `${metric.name} is no name the reviewer knows; metric.behaviour checked what metric.py does on this ${taskType} task`,
    };
  }
  const known = info.canonical === metric.name ? metric.name : `${metric.name} (${info.canonical})`;
  if (!info.fits.includes(taskType))
    return { name, passed: false, detail: `${known} does not suit ${taskType} (it suits ${info.fits.join(', ')})` };
  if (info.higherIsBetter !== metric.higherIsBetter) {
    const way = info.higherIsBetter ? 'higher' : 'lower';
    return {
      name,
      passed: false,
      detail: `${known} is ${way}-is-better, but task.json says higherIsBetter=${metric.higherIsBetter}`,
    };
  }
  return { name, passed: true, detail: `${known} suits ${taskType}` };
}
