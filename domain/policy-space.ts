/**
 * The space of reference solutions a stochastic heuristic policy draws from: a model family, its
 * hyper-parameters, a share of the feature columns and a share of the training rows. A variant is
 * pure data; agents/heuristic/templates/variant.py turns it into a script. Seeded draws make a
 * rollout group of K samples spread its rewards while the same seed gives the same batch.
 */

export const MODEL_FAMILIES = [
  'constant',
  'single-feature',
  'linear',
  'knn',
  'naive-bayes',
  'tree',
  'forest',
  'boosting',
  'selected',
] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export interface PolicyVariant {
  family: ModelFamily;
  /** the family's hyper-parameters (names as variant.py reads them) */
  params: Record<string, number>;
  /** share of the feature columns kept (a seeded subset; at least one) */
  featureShare: number;
  /** share of the training rows fitted on (a seeded sample) */
  trainShare: number;
  /** seeds the subsets and the model */
  seed: number;
  /** a fidelity rung: executed as is, never validated first nor replaced by the baseline when it fails */
  strict?: boolean;
}

/** The choices of each family's hyper-parameters. */
const PARAM_CHOICES: Record<ModelFamily, Record<string, number[]>> = {
  constant: {},
  'single-feature': { depth: [1, 2, 3, 4] },
  linear: { logC: [-3, -2, -1, 0, 1, 2], scale: [0, 1] },
  knn: { k: [1, 3, 5, 10, 25, 50] },
  'naive-bayes': {},
  tree: { depth: [1, 2, 3, 4, 6, 8, 12] },
  forest: { trees: [10, 50, 100, 200], depth: [3, 6, 0] },
  boosting: { iterations: [20, 50, 100, 300], learningRate: [0.03, 0.1, 0.3] },
  selected: { folds: [3] },
};
/** How often each family is drawn: the strong ones more, so a group spans weak to strong. */
const FAMILY_WEIGHTS: Record<ModelFamily, number> = {
  constant: 1,
  'single-feature': 2,
  linear: 3,
  knn: 2,
  'naive-bayes': 1,
  tree: 3,
  forest: 3,
  boosting: 3,
  selected: 1,
};
const FEATURE_SHARES = [0.25, 0.5, 0.75, 1, 1, 1];
const TRAIN_SHARES = [0.1, 0.25, 0.5, 1, 1, 1];

/** mulberry32: a small, well-known 32-bit generator; deterministic across platforms. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One 32-bit seed from the batch seed and the sample index (distinct pairs, distinct streams). */
export function sampleSeed(seed: number, sample: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(sample + 1, 0x85ebca6b)) >>> 0;
}

/** The variant sample `sample` of a batch seeded `seed` draws: the same pair, the same variant. */
export function drawVariant(seed: number, sample: number): PolicyVariant {
  const s = sampleSeed(seed, sample);
  const next = generator(s);
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(next() * choices.length)]!;
  const total = MODEL_FAMILIES.reduce((sum, f) => sum + FAMILY_WEIGHTS[f], 0);
  let roll = next() * total;
  const family = MODEL_FAMILIES.find((f) => (roll -= FAMILY_WEIGHTS[f]) < 0) ?? 'boosting';
  const params = Object.fromEntries(
    Object.entries(PARAM_CHOICES[family]).map(([name, values]) => [name, pick(values)]),
  );
  const featureShare = family === 'constant' || family === 'single-feature' ? 1 : pick(FEATURE_SHARES);
  return { family, params, featureShare, trainShare: pick(TRAIN_SHARES), seed: s % 100000 };
}

/** A variant pinned by hand: every feature and row unless said otherwise. */
const pinned = (family: ModelFamily, params: Record<string, number> = {}): PolicyVariant => ({
  family,
  params,
  featureShare: 1,
  trainShare: 1,
  seed: 0,
  strict: true,
});

/**
 * The fidelity report's policies, weakest first: their strength is known by construction (each
 * sees more of the data, or fits a richer model on all of it, than the one before).
 */
export const FIDELITY_LADDER: { name: string; variant: PolicyVariant }[] = [
  { name: 'constant', variant: pinned('constant') },
  { name: 'single-feature', variant: pinned('single-feature', { depth: 2 }) },
  { name: 'shallow-tree', variant: pinned('tree', { depth: 3 }) },
  { name: 'linear', variant: pinned('linear', { logC: 0, scale: 1 }) },
  // the best of linear, tree, forest and boosting by cross-validation on the training rows
  { name: 'cv-selected', variant: pinned('selected', { folds: 3 }) },
];

/**
 * The variant a rollout's episode plays with the heuristic policy: the fidelity ladder's rung
 * (sample i is rung i), else a draw seeded by the batch seed and the sample, else none (the baseline).
 */
export function episodeVariant(
  sample: number,
  { seed, fidelity }: { seed?: number; fidelity?: boolean },
): PolicyVariant | undefined {
  if (fidelity) return FIDELITY_LADDER[sample % FIDELITY_LADDER.length]!.variant;
  return seed === undefined ? undefined : drawVariant(seed, sample);
}

/** A variant in one line, e.g. `forest trees=50 depth=6 features=0.5 rows=1`. */
export function describeVariant({ family, params, featureShare, trainShare }: PolicyVariant): string {
  const named = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return [family, ...named, `features=${featureShare}`, `rows=${trainShare}`].join(' ');
}
