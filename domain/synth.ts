import { z } from 'zod';
import type { TaskInfo } from './env';
import { better } from './metrics';
import type { MedalThresholds } from './rewards';
import { type MetricSpec, metricSpecSchema, MODALITIES, type Modality, TASK_TYPES } from './task';
import type { Usage } from './usage';
import type { CheckResult, Verdict, VerificationReport } from './verification';

/**
 * Synth: micro-scale synthetic tasks grown from a seed task's "DNA" (the SandMLE idea). Pure
 * types and logic: DNA extraction, threshold derivation, the `synth.*` checks.
 */

export const FEATURE_KINDS = ['numeric', 'integer', 'boolean', 'categorical', 'text', 'datetime'] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

const statsSchema = z.object({ min: z.number(), max: z.number(), mean: z.number(), std: z.number() });

/** What a synthetic task must keep of its seed: modality, schema with column kinds, labels, metric. */
export const dnaSchema = z.object({
  seedTaskId: z.string().min(1),
  taskType: z.enum(TASK_TYPES),
  modality: z.enum(MODALITIES),
  metric: metricSpecSchema,
  /** training rows of the seed */
  trainRows: z.number().int().nonnegative(),
  features: z.array(
    z.object({
      /** the seed's column name (a synthetic task may rename it) */
      name: z.string().min(1),
      kind: z.enum(FEATURE_KINDS),
      missing: z.number().min(0).max(1),
      /** numeric and integer columns */
      stats: statsSchema.optional(),
      /** categorical and boolean columns: how many distinct values */
      levels: z.number().int().positive().optional(),
    }),
  ),
  /** classification: the classes by share of the training rows, most frequent first */
  label: z
    .object({ classes: z.array(z.object({ value: z.string(), share: z.number().min(0).max(1) })).min(2) })
    .optional(),
  /** regression: the target's spread */
  targetStats: statsSchema.optional(),
});
export type TaskDna = z.infer<typeof dnaSchema>;

/** A published seed task's public facts: task.json and the profile of public/train.csv. */
export type SeedFacts = Pick<
  TaskInfo,
  'taskId' | 'taskType' | 'target' | 'idColumn' | 'metric' | 'columns' | 'trainRows' | 'profiledRows'
> & { modality: Modality };

export const isClassification = (taskType: string) =>
  taskType === 'binary-classification' || taskType === 'multiclass-classification';

/** The Data Strategist's rules: the seed's features (id and constant columns left out) and its labels. */
export function extractDna(seed: SeedFacts): TaskDna {
  const features = seed.columns
    .filter(
      (c) =>
        c.name !== seed.target && c.name !== seed.idColumn && (FEATURE_KINDS as readonly string[]).includes(c.kind),
    )
    .map((c) => ({
      name: c.name,
      kind: c.kind as FeatureKind,
      missing: c.missing,
      ...(c.stats ? { stats: c.stats } : {}),
      ...(c.kind === 'categorical' || c.kind === 'boolean' ? { levels: c.distinct } : {}),
    }));
  const target = seed.columns.find((c) => c.name === seed.target);
  const rows = seed.trainRows ?? 0;
  let label: TaskDna['label'];
  if (isClassification(seed.taskType) && target) {
    const present = Math.max(1, Math.round((seed.profiledRows ?? rows) * (1 - target.missing)));
    // Integer labels have no value counts in a profile: equal shares over the distinct values.
    const top = target.top?.length
      ? target.top
      : Array.from({ length: target.distinct }, (_, i) => ({ value: String(i), count: present / target.distinct }));
    label = {
      classes: [...top]
        .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
        .map((t) => ({ value: t.value, share: round(t.count / present, 4) })),
    };
  }
  return {
    seedTaskId: seed.taskId,
    taskType: seed.taskType,
    modality: seed.modality,
    metric: seed.metric,
    trainRows: rows,
    features,
    ...(label ? { label } : {}),
    ...(!isClassification(seed.taskType) && target?.stats ? { targetStats: target.stats } : {}),
  };
}

/** Reference scores of a drafted synthetic task, all graded by its metric.py. */
export interface SynthScores {
  /** the sample submission */
  trivial?: number;
  /** solutions/baseline.py */
  baseline?: number;
  /** the other reference solutions, by file name */
  references: Record<string, number | undefined>;
  /** the hidden rule without noise (private/oracle.csv): the best score a solver can hope for */
  oracle?: number;
}

/** verification.json of a synthetic task: the verifier's checks and the `synth.*` ones, and the synth stage's scores and thresholds. */
export type SynthReport = VerificationReport & { synth: { scores: SynthScores; thresholds?: MedalThresholds } };

/** The reference baselines that ran and graded (baseline.py included). */
export function baselineScores(scores: SynthScores): number[] {
  return [scores.baseline, ...Object.values(scores.references)].filter(
    (s): s is number => s !== undefined && Number.isFinite(s),
  );
}

/**
 * The MLOps rules: bronze, silver and gold a quarter, a half and three quarters of the way from
 * the best reference baseline to the oracle; the median at the median reference baseline. So a
 * plain model is "median", and medals need real headroom over it. Strictly ordered whenever the
 * oracle beats the best baseline.
 */
export function deriveThresholds(scores: SynthScores, metric: MetricSpec): MedalThresholds | undefined {
  const refs = baselineScores(scores);
  if (refs.length === 0 || scores.oracle === undefined) return undefined;
  const best = refs.reduce((a, b) => (better(metric, b, a) ? b : a));
  const sorted = [...refs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const at = (share: number) => round(best + share * (scores.oracle! - best), 6);
  return { gold: at(0.75), silver: at(0.5), bronze: at(0.25), median: round(median, 6) };
}

/** What the ML Developer declares of its hidden rule, so the description can be checked for leaks. */
export const hiddenRuleSchema = z.object({
  /** the feature columns the rule uses */
  features: z.array(z.string().min(1)),
  /** its weights, cut-offs and other constants */
  numbers: z.array(z.number()),
  /** words of text columns that move the target */
  keywords: z.array(z.string().min(1)),
});
export type HiddenRule = z.infer<typeof hiddenRuleSchema>;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LEAK_WORDS = /hidden rule|coefficient|generator\.py|_oracle|oracle\.csv|private\//i;

/**
 * How a description leaks the rule (empty when it does not): it quotes one of the rule's numbers
 * (as written with 2 or more decimals), names one of its keywords, names a feature the rule uses
 * anywhere but the data dictionary (table rows, where every feature is listed alike), or talks
 * about the rule, the generator or the private answers.
 */
export function ruleLeaks(description: string, rule: HiddenRule): string[] {
  const leaks: string[] = [];
  const numberForms = (n: number) =>
    [...new Set([String(n), n.toFixed(2), n.toFixed(3)])].filter((s) => /\.\d{2,}/.test(s));
  for (const n of rule.numbers) {
    const quoted = numberForms(Math.abs(n)).find((form) =>
      new RegExp(`(?<![\\d.])${escape(form)}(?![\\d])`).test(description),
    );
    if (quoted) leaks.push(`quotes the rule's number ${quoted}`);
  }
  for (const word of rule.keywords)
    if (new RegExp(`\\b${escape(word)}\\b`, 'i').test(description)) leaks.push(`names the keyword "${word}"`);
  const prose = description
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('|'))
    .join('\n');
  for (const feature of rule.features)
    if (new RegExp(`(?<![\\w])${escape(feature)}(?![\\w])`).test(prose))
      leaks.push(`singles out the rule's feature ${feature} outside the data dictionary`);
  const word = LEAK_WORDS.exec(description);
  if (word) leaks.push(`mentions "${word[0]}"`);
  return leaks;
}

/** Kinds that the profiler may tell apart differently on a few rows count as one family. */
const FAMILY: Record<FeatureKind, string> = {
  numeric: 'number',
  integer: 'number',
  boolean: 'category',
  categorical: 'category',
  text: 'text',
  datetime: 'datetime',
};

function familyCounts(kinds: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of kinds) {
    const family = FAMILY[kind as FeatureKind] ?? kind;
    counts[family] = (counts[family] ?? 0) + 1;
  }
  return counts;
}

/** A class's share may differ from the seed's by this much (absolute). */
export const SHARE_TOLERANCE = 0.1;
/** The baseline must close this share of the gap from the sample submission to the oracle. */
export const LEARNABLE_SHARE = 0.2;

export interface SynthCheckInput {
  dna: TaskDna;
  /** the draft's task.json */
  manifest: { taskType: string; modality: string; metric: { name: string; higherIsBetter: boolean } };
  /** the draft's public/train.csv, profiled */
  train: SeedFacts['columns'];
  trainRows: number;
  idColumn: string;
  target: string;
  rows: { train: number; test: number };
  scores: SynthScores;
  thresholds?: MedalThresholds;
  /** sha256 of raw/ after each of two generator runs */
  generatorHashes: [string, string];
  rule: HiddenRule;
  description: string;
}

export const SYNTH_CHECKS = [
  'synth.generator_deterministic',
  'synth.matches_dna',
  'synth.learnable',
  'synth.not_trivial',
  'synth.thresholds_ordered',
  'synth.no_rule_leak',
] as const;

/** The `synth` stage of verification: what makes a verified package a good synthetic task. */
export function synthChecks(input: SynthCheckInput): CheckResult[] {
  const { dna, manifest, scores, thresholds } = input;
  const metric = manifest.metric;
  const [first, second] = input.generatorHashes;
  const deterministic: CheckResult = {
    name: 'synth.generator_deterministic',
    passed: first === second,
    detail:
      first === second
        ? `two runs of generator.py wrote the same raw/ (${first})`
        : `two runs of generator.py wrote different raw/ (${first} vs ${second}): seed every random draw`,
    evidence: { hashes: input.generatorHashes },
  };

  const problems: string[] = [];
  if (manifest.taskType !== dna.taskType)
    problems.push(`task type ${manifest.taskType}, the seed's is ${dna.taskType}`);
  if (manifest.modality !== dna.modality) problems.push(`modality ${manifest.modality}, the seed's is ${dna.modality}`);
  if (metric.name !== dna.metric.name || metric.higherIsBetter !== dna.metric.higherIsBetter)
    problems.push(`metric ${metric.name}, the seed's is ${dna.metric.name}`);
  const features = input.train.filter((c) => c.name !== input.target && c.name !== input.idColumn);
  const want = familyCounts(dna.features.map((f) => f.kind));
  const got = familyCounts(features.map((c) => c.kind));
  if (JSON.stringify(Object.entries(want).sort()) !== JSON.stringify(Object.entries(got).sort()))
    problems.push(`feature kinds ${JSON.stringify(got)}, the seed's are ${JSON.stringify(want)}`);
  if (input.trainRows !== input.rows.train)
    problems.push(`train.csv has ${input.trainRows} rows, ${input.rows.train} were asked for`);
  if (dna.label) {
    const column = input.train.find((c) => c.name === input.target);
    const counts = (column?.top ?? []).map((t) => t.count).sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    if (counts.length !== dna.label.classes.length)
      problems.push(`${counts.length} classes, the seed has ${dna.label.classes.length}`);
    else {
      const off = dna.label.classes.map((c, i) => Math.abs(c.share - counts[i]! / total));
      if (Math.max(...off) > SHARE_TOLERANCE)
        problems.push(
          `class shares ${counts.map((c) => round(c / total, 2)).join('/')}, the seed's are ${dna.label.classes.map((c) => round(c.share, 2)).join('/')}`,
        );
    }
  }
  const matches: CheckResult = {
    name: 'synth.matches_dna',
    passed: problems.length === 0,
    detail:
      problems.join('; ') ||
      `same task type, modality, metric, feature kinds${dna.label ? ' and class balance' : ''} as ${dna.seedTaskId}`,
    evidence: { want, got },
  };

  const { trivial: t, baseline: b, oracle: o } = scores;
  let learnable: CheckResult;
  if (t === undefined || b === undefined || o === undefined)
    learnable = {
      name: 'synth.learnable',
      passed: false,
      detail: `missing scores (sample ${t}, baseline ${b}, oracle ${o})`,
    };
  else if (!better(metric, o, t))
    learnable = {
      name: 'synth.learnable',
      passed: false,
      detail: `the noise-free rule scores ${fmt(o)}, no better than the sample submission's ${fmt(t)}: the target carries no signal`,
      evidence: { trivial: t, baseline: b, oracle: o },
    };
  else {
    const gain = (b - t) / (o - t);
    learnable = {
      name: 'synth.learnable',
      passed: gain >= LEARNABLE_SHARE,
      detail: `baseline ${fmt(b)} closes ${(gain * 100).toFixed(0)}% of the gap from the sample submission (${fmt(t)}) to the noise-free rule (${fmt(o)}); needs ${LEARNABLE_SHARE * 100}%`,
      evidence: { trivial: t, baseline: b, oracle: o },
    };
  }

  const refs = baselineScores(scores);
  const best = refs.length ? refs.reduce((x, y) => (better(metric, y, x) ? y : x)) : undefined;
  const headroom = best !== undefined && o !== undefined && better(metric, o, best);
  const notTrivial: CheckResult = {
    name: 'synth.not_trivial',
    passed: headroom,
    detail:
      best === undefined || o === undefined
        ? 'missing the reference or oracle scores'
        : headroom
          ? `the best reference baseline (${fmt(best)}) stays below the noise-free rule (${fmt(o)})`
          : `a reference baseline (${fmt(best)}) reaches the noise-free rule's score (${fmt(o)}): nothing is left to win`,
    evidence: { references: refs, oracle: o },
  };

  let ordered: CheckResult;
  if (!thresholds) ordered = { name: 'synth.thresholds_ordered', passed: false, detail: 'no thresholds were derived' };
  else {
    const ladder: [string, number][] = [
      ['gold', thresholds.gold],
      ['silver', thresholds.silver],
      ['bronze', thresholds.bronze],
      ['median', thresholds.median],
    ];
    const broken: string[] = [];
    for (let i = 1; i < ladder.length; i++) {
      const [[upper, u], [lower, l]] = [ladder[i - 1]!, ladder[i]!];
      if (!better(metric, u, l)) broken.push(`${upper} ${fmt(u)} does not beat ${lower} ${fmt(l)}`);
    }
    if (t === undefined || !better(metric, thresholds.gold, t))
      broken.push(`gold ${fmt(thresholds.gold)} does not beat the sample submission's ${fmt(t)}`);
    ordered = {
      name: 'synth.thresholds_ordered',
      passed: broken.length === 0,
      detail:
        broken.join('; ') ||
        `gold ${fmt(thresholds.gold)} > silver ${fmt(thresholds.silver)} > bronze ${fmt(thresholds.bronze)} > median ${fmt(thresholds.median)} (${metric.higherIsBetter ? 'higher' : 'lower'} is better), gold beats the sample's ${fmt(t)}`,
      evidence: thresholds,
    };
  }

  const leaks = ruleLeaks(input.description, input.rule);
  const noLeak: CheckResult = {
    name: 'synth.no_rule_leak',
    passed: leaks.length === 0,
    detail: leaks.join('; ') || "description.md gives away none of the rule's features, numbers or keywords",
    evidence: { leaks },
  };
  return [deterministic, matches, learnable, notTrivial, ordered, noLeak];
}

/** `<seed>-synth-<n>`, within the 80 characters of a task id. */
export function synthTaskId(seedTaskId: string, n: number): string {
  const suffix = `-synth-${n}`;
  return `${seedTaskId.slice(0, 80 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** Training rows of the n-th of `count` tasks (1-based): spread evenly over [min, max]. */
export function trainRowsFor(n: number, count: number, [min, max]: [number, number]): number {
  return count <= 1 ? Math.round((min + max) / 2) : Math.round(min + ((max - min) * (n - 1)) / (count - 1));
}

/** Test rows beside `train` training rows: as many, so micro tasks still grade steadily. */
export const testRowsFor = (train: number) => train;

export const DEFAULT_SYNTH_ROWS: [number, number] = [50, 200];

export interface SynthesizedTask {
  id: string;
  status: Verdict;
  /** the catalog folder when verified; the last draft when rejected */
  path: string;
  rows: { train: number; test: number };
  scores: SynthScores;
  thresholds?: MedalThresholds;
  failedChecks: string[];
  rounds: number;
  usage: Usage;
}

export interface SynthResult {
  workflowId: string;
  seedTaskId: string;
  tasks: SynthesizedTask[];
  usage: Usage;
}

export interface SynthProgress {
  stage: 'dna' | 'tasks' | 'done';
  tasks: {
    id: string;
    status: 'pending' | 'develop' | 'generate' | 'write' | 'verify' | 'publish' | Verdict;
    round: number;
  }[];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const fmt = (v: number | undefined) => (v === undefined ? 'none' : Number(v.toPrecision(4)).toString());
