import type { DatasetProfile } from '../../domain/profile';
import { TASK_SCHEMA } from '../../domain/task';
import type { TaskProposal } from '../../domain/proposal';
import { LAYOUT } from '../../package/layout';
import type { Design, DesignInput } from '../roles';
import { writeDescription } from './description';
import { designForecast, forecastAxis } from './forecast-design';
import { designImageTask } from './image-designer';
import { fromTemplate } from './template';

/** Everything the templates read from their CONFIG line. */
export interface DesignConfig {
  id: string;
  target: string;
  taskType: string;
  metric: string;
  drop: string[];
  dedupe: boolean;
  positive?: string;
  /** classification: the labels kept (stray, nearly empty classes are dropped) */
  classes?: string[];
  seed: number;
  testFraction: number;
  stratify: boolean;
  time?: string;
  numeric: string[];
  categorical: string[];
  text: string[];
  datetime: string[];
}

export { fromTemplate } from './template';

/** A class needs this many rows to be kept in a multiclass task. */
const MIN_CLASS_ROWS = 5;

/**
 * The labels a classification task keeps, most frequent first: the two main ones for a binary
 * task (a stray third value is dropped), every class with enough rows for a multiclass one.
 */
function keptClasses(profile: DatasetProfile, proposal: TaskProposal): string[] | undefined {
  const top = profile.columns.find((c) => c.name === proposal.target)?.top;
  if (!top || !proposal.taskType.endsWith('classification')) return undefined;
  const ranked = [...top].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  return proposal.taskType === 'binary-classification'
    ? ranked.slice(0, 2).map((t) => t.value)
    : ranked.filter((t) => t.count >= MIN_CLASS_ROWS).map((t) => t.value);
}

function firstConfig(profile: DatasetProfile, proposal: TaskProposal): DesignConfig {
  const target = proposal.target;
  const suspects = profile.leakageSuspects.filter((s) => s.target === target).map((s) => s.column);
  const unusable = profile.columns.filter((c) => c.kind === 'id' || c.kind === 'constant').map((c) => c.name);
  const drop = [...new Set([...profile.idColumns, ...unusable, ...suspects])].filter((c) => c !== target);
  const names = new Set(profile.columns.map((c) => c.name));
  const time = [profile.timeIndex, ...profile.timeColumns].find((c) => c && c !== target && !drop.includes(c));
  const classes = keptClasses(profile, proposal);
  return {
    id: names.has('id') && !drop.includes('id') ? 'row_id' : 'id',
    target,
    taskType: proposal.taskType,
    metric: proposal.metric.name,
    drop,
    dedupe: false,
    classes,
    // the rarer of the two, so that ROC-AUC is about finding it
    positive: proposal.taskType === 'binary-classification' ? classes?.at(-1) : undefined,
    seed: 42,
    testFraction: 0.2,
    stratify: proposal.taskType.endsWith('classification') && !time,
    time,
    ...featureKinds(profile, target, drop),
  };
}

function featureKinds(profile: DatasetProfile, target: string, drop: string[]) {
  const features = profile.columns.filter((c) => c.name !== target && !drop.includes(c.name));
  const of = (...kinds: string[]) => features.filter((c) => kinds.includes(c.kind)).map((c) => c.name);
  return {
    numeric: of('numeric', 'integer'),
    categorical: of('categorical', 'boolean'),
    text: of('text'),
    datetime: of('datetime'),
  };
}

/**
 * Repairs from the failed checks' evidence. Returns null when nothing here can fix them, so the
 * workflow rejects the task instead of spending rounds on the same design.
 */
function repaired(
  profile: DatasetProfile,
  config: DesignConfig,
  failed: { name: string; evidence?: unknown }[],
): DesignConfig | null {
  const next = { ...config, drop: [...config.drop] };
  for (const check of failed) {
    // Repeated rows on both sides of the split let a model look answers up.
    if (check.name === 'split.no_row_leak' || check.name === 'baseline.not_perfect') next.dedupe = true;
    if (check.name === 'baseline.not_perfect' || check.name === 'review.no_answer_hints') {
      // Columns the reviewer names, else every column the profile ties to the target.
      const named = (check.evidence as { columns?: string[] } | undefined)?.columns ?? [];
      const tied = profile.leakageSuspects
        .map((s) => s.column)
        .concat(
          profile.columns
            .filter((c) => c.name !== config.target && c.name.toLowerCase().includes(config.target.toLowerCase()))
            .map((c) => c.name),
        );
      for (const column of [...named, ...tied])
        if (column !== config.target && !next.drop.includes(column)) next.drop.push(column);
    }
  }
  Object.assign(next, featureKinds(profile, config.target, next.drop));
  return JSON.stringify(next) === JSON.stringify(config) ? null : next;
}

export function design({ profile, proposal, previous }: DesignInput): Design {
  if (profile.images) {
    // the image design has no repair of its own: a second round would write the same files
    if (previous)
      return { ...previous.design, notes: { ...previous.design.notes, giveUp: 'no repair known for an image task' } };
    return designImageTask(profile, proposal);
  }
  const axis = proposal.taskType === 'forecasting' ? forecastAxis(profile, proposal.target) : undefined;
  if (axis) {
    // the forecast design has nothing to repair: its train and test hold only keys, times and the target
    if (previous)
      return { ...previous.design, notes: { ...previous.design.notes, giveUp: 'no repair known for a forecast' } };
    return designForecast(profile, proposal, axis);
  }
  let config = firstConfig(profile, proposal);
  if (previous) {
    const next = repaired(profile, previous.design.notes.config as DesignConfig, previous.failed);
    if (!next)
      return {
        ...previous.design,
        notes: {
          ...previous.design.notes,
          giveUp: `no repair known for: ${previous.failed.map((f) => f.name).join(', ')}`,
        },
      };
    config = next;
  }
  const manifest = {
    schema: TASK_SCHEMA,
    id: proposal.id,
    title: proposal.title,
    taskType: proposal.taskType,
    modality: proposal.modality,
    target: proposal.target,
    idColumn: config.id,
    metric: proposal.metric,
    resources: { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 900 },
    source: {
      dataset: profile.name,
      files: profile.source.files.map((f) => ({ name: f.path.split('/').at(-1), sha256: f.sha256, bytes: f.bytes })),
    },
    split: {
      method: config.time ? 'time-ordered' : config.stratify ? 'stratified' : 'random',
      testFraction: config.testFraction,
      seed: config.seed,
    },
  };
  return {
    files: {
      [LAYOUT.manifest]: `${JSON.stringify(manifest, null, 2)}\n`,
      [LAYOUT.description]: writeDescription(profile, proposal, config),
      [LAYOUT.prepare]: fromTemplate('prepare.py', config),
      [LAYOUT.metric]: fromTemplate('metric.py', { id: config.id, target: config.target, metric: config.metric }),
      [LAYOUT.baseline]: fromTemplate('baseline.py', config),
    },
    notes: { config },
  };
}
