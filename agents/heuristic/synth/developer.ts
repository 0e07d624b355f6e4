import { isClassification, type TaskDna } from '../../../domain/synth';
import type { CheckResult } from '../../../domain/verification';
import { LAYOUT } from '../../../package/layout';
import type { DevelopInput, PublicSchema, SynthDesign } from '../../synth-roles';
import { fromTemplate } from '../designer';
import { seededRandom, shuffled } from './random';
import { canonicalMetricName } from '../../../domain/metrics';

/** Everything generator.py reads from its CONFIG line. */
export interface GeneratorConfig {
  seed: number;
  trainRows: number;
  testRows: number;
  taskType: string;
  metric: string;
  id: string;
  target: string;
  features: {
    name: string;
    kind: string;
    missing: number;
    mean?: number;
    std?: number;
    min?: number;
    max?: number;
    levels?: string[];
    words?: number;
  }[];
  classes?: string[];
  shares?: number[];
  targetStats?: { mean: number; std: number; min: number; max: number };
  rule: {
    terms: { feature: string; weight: number }[];
    interaction: { a: string; b: string; weight: number } | null;
    wave: { feature: string; weight: number } | null;
    keywords: string[];
  };
  /** standard deviation of the noise, relative to the rule's (standardised) signal */
  noise: number;
}

const ID = 'id';
const TARGET = 'outcome';
const GREEK = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
const two = (x: number) => Math.round(x * 100) / 100;

/** Neutral names (f01, f02, …) so that the Writer can set the task in any domain. */
function featureName(i: number, count: number): string {
  return `f${String(i + 1).padStart(String(count).length < 2 ? 2 : String(count).length, '0')}`;
}

function pseudoWord(random: () => number): string {
  const syllables = ['qu', 'xa', 'zor', 'vex', 'jil', 'wup', 'yor', 'kib'];
  return Array.from({ length: 3 }, () => syllables[Math.floor(random() * syllables.length)]).join('');
}

function firstConfig(dna: TaskDna, input: DevelopInput, seed: number): GeneratorConfig {
  const random = seededRandom(`${input.taskId}:${seed}`);
  const features = dna.features.map((f, i) => {
    const name = featureName(i, dna.features.length);
    const base = { name, kind: f.kind, missing: f.missing };
    if (f.kind === 'numeric' || f.kind === 'integer') {
      const s = f.stats ?? { min: 0, max: 1, mean: 0.5, std: 0.25 };
      return { ...base, mean: s.mean, std: s.std > 0 ? s.std : 1, min: s.min, max: s.max };
    }
    if (f.kind === 'boolean') return { ...base, levels: ['no', 'yes'] };
    if (f.kind === 'categorical')
      return {
        ...base,
        levels: Array.from({ length: Math.min(8, Math.max(2, f.levels ?? 3)) }, (_, k) => String.fromCharCode(65 + k)),
      };
    if (f.kind === 'text') return { ...base, words: 20 };
    return base;
  });
  // The rule: every text column (its keywords), then up to three other columns by a seeded draw
  // (dates only when nothing else is left).
  const text = features.filter((f) => f.kind === 'text');
  const plain = features.filter((f) => f.kind !== 'text' && f.kind !== 'datetime');
  const others = shuffled(plain.length || text.length ? plain : features, random).slice(0, 3);
  const weight = () => two((random() < 0.5 ? -1 : 1) * (0.6 + random()));
  const terms = [...text, ...others].map((f) => ({ feature: f.name, weight: weight() }));
  const numeric = others.filter((f) => f.kind === 'numeric' || f.kind === 'integer');
  const classes = dna.label?.classes;
  const binaryAuc = dna.taskType === 'binary-classification' && canonicalMetricName(dna.metric.name) === 'roc-auc';
  return {
    seed,
    trainRows: input.rows.train,
    testRows: input.rows.test,
    taskType: dna.taskType,
    metric: canonicalMetricName(dna.metric.name),
    id: ID,
    target: TARGET,
    features,
    ...(classes
      ? {
          classes: binaryAuc ? ['0', '1'] : classes.map((_, i) => GREEK[i] ?? `class_${i + 1}`),
          shares: binaryShares(classes, binaryAuc),
        }
      : {}),
    ...(!isClassification(dna.taskType)
      ? { targetStats: dna.targetStats ?? { mean: 0, std: 1, min: -1e9, max: 1e9 } }
      : {}),
    rule: {
      terms,
      interaction:
        numeric.length >= 2 ? { a: numeric[0]!.name, b: numeric[1]!.name, weight: two(0.4 + 0.4 * random()) } : null,
      wave: numeric.length >= 1 ? { feature: numeric[0]!.name, weight: two(0.3 + 0.4 * random()) } : null,
      keywords: text.length
        ? Array.from({ length: 4 }, () => pseudoWord(random)).filter((w, i, all) => all.indexOf(w) === i)
        : [],
    },
    noise: 0.5,
  };
}

/** Class shares in generator order; for ROC-AUC the positive (1) class is the seed's rarer one. */
function binaryShares(classes: { share: number }[], binaryAuc: boolean): number[] {
  const total = classes.reduce((a, c) => a + c.share, 0) || 1;
  const shares = classes.map((c) => c.share / total);
  return binaryAuc ? [Math.max(...shares), Math.min(...shares)] : shares;
}

/**
 * Repairs from the failed checks, on fresh data (the next seed): no signal → less noise and a
 * simpler rule; no headroom over the baselines or a perfect baseline → a harder rule and more
 * noise; a rule number quoted by chance → new weights. null when nothing here helps.
 */
function repaired(
  config: GeneratorConfig,
  failed: CheckResult[],
  redraw: (seed: number) => GeneratorConfig,
): GeneratorConfig | null {
  const names = new Set(failed.map((c) => c.name));
  const next: GeneratorConfig = JSON.parse(JSON.stringify(config));
  next.seed = config.seed + 1;
  const scale = (by: (w: number) => number) => {
    if (next.rule.interaction) next.rule.interaction.weight = two(by(next.rule.interaction.weight));
    if (next.rule.wave) next.rule.wave.weight = two(by(next.rule.wave.weight));
  };
  if (names.has('synth.learnable') || names.has('baseline.beats_trivial')) {
    next.noise = two(config.noise / 2);
    scale((w) => w / 2);
  } else if (
    names.has('synth.not_trivial') ||
    names.has('synth.thresholds_ordered') ||
    names.has('baseline.not_perfect')
  ) {
    next.noise = two(config.noise + 0.2);
    scale((w) => w + 0.5);
  } else if (names.has('synth.no_rule_leak')) {
    next.rule.terms = redraw(next.seed).rule.terms;
  } else {
    return null;
  }
  return next;
}

function solutionConfig(config: GeneratorConfig, model: string) {
  const of = (...kinds: string[]) => config.features.filter((f) => kinds.includes(f.kind)).map((f) => f.name);
  return {
    id: config.id,
    target: config.target,
    taskType: config.taskType,
    metric: config.metric,
    model,
    numeric: of('numeric', 'integer'),
    categorical: of('categorical', 'boolean'),
    text: of('text'),
    datetime: of('datetime'),
  };
}

/** The ML Developer by rules: generator.py from the DNA, the split, the metric, three reference solutions. */
/** solutions/reference-<kind>.py: a reference solution beside the baseline. */
const reference = (kind: string) => `${LAYOUT.solutions}/reference-${kind}.py`;

export function develop(input: DevelopInput): SynthDesign {
  const { dna } = input;
  const redraw = (seed: number) => firstConfig(dna, input, seed);
  let config = redraw(Math.floor(seededRandom(input.taskId)() * 1e6));
  if (input.previous) {
    const next = repaired(input.previous.design.notes.config as GeneratorConfig, input.previous.failed, redraw);
    if (!next)
      return {
        ...input.previous.design,
        notes: {
          ...input.previous.design.notes,
          giveUp: `no repair known for: ${input.previous.failed.map((f) => f.name).join(', ')}`,
        },
      };
    config = next;
  }
  const schema: PublicSchema = {
    idColumn: config.id,
    target: config.target,
    columns: config.features.map((f) => ({ name: f.name, kind: f.kind as PublicSchema['columns'][number]['kind'] })),
    ...(config.classes ? { classes: config.classes } : {}),
  };
  const { rule } = config;
  return {
    files: {
      [LAYOUT.generator]: fromTemplate('generator.py', config),
      [LAYOUT.prepare]: fromTemplate('synth_prepare.py', {
        ...{ id: config.id, target: config.target, taskType: config.taskType, metric: config.metric },
        ...{ trainRows: config.trainRows, testRows: config.testRows, seed: config.seed },
      }),
      [LAYOUT.metric]: fromTemplate('metric.py', { id: config.id, target: config.target, metric: config.metric }),
      [LAYOUT.baseline]: fromTemplate('synth_solution.py', solutionConfig(config, 'forest')),
      [reference('linear')]: fromTemplate('synth_solution.py', solutionConfig(config, 'linear')),
      [reference('nearest')]: fromTemplate('synth_solution.py', solutionConfig(config, 'nearest')),
    },
    schema,
    rule: {
      features: [
        ...new Set([
          ...rule.terms.map((t) => t.feature),
          ...(rule.interaction ? [rule.interaction.a, rule.interaction.b] : []),
          ...(rule.wave ? [rule.wave.feature] : []),
        ]),
      ],
      numbers: [
        ...rule.terms.map((t) => t.weight),
        ...(rule.interaction ? [rule.interaction.weight] : []),
        ...(rule.wave ? [rule.wave.weight] : []),
      ],
      keywords: rule.keywords,
    },
    notes: { config },
  };
}
