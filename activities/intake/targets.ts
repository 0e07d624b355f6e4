import type { CandidateTarget, LeakageSuspect } from '../../domain/profile';
import { type Column, numbersOf, pearson, round } from './columns';
import { documentedTargets } from './documentation';
import { DERIVED_R2, type Derivation, derivation } from './fit';

/** A column that could be a target, judged from the column alone (profile.ts's `candidate`). */
export interface RawCandidate {
  column: Column;
  taskType: 'binary-classification' | 'multiclass-classification' | 'regression';
  base: number;
  what: string;
}

export interface JudgedTargets {
  /** usable targets, what the data is for first */
  candidateTargets: CandidateTarget[];
  /** why each other column that looked like a target is none */
  notTarget: Map<string, string>;
  /** columns computed from a kept target (a total of it and others): the task must not see them */
  leakageSuspects: LeakageSuspect[];
  keyColumns: string[];
  timeIndex?: string;
}

/** Words of column names that say "this is what the data was collected to predict". */
const OUTCOME_WORDS = new Set(
  (
    'target label class outcome result y species survived survival churn price prices quality category sentiment ' +
    'rating diagnosis default fraud spam yield strength wage wages salary income earnings revenue sales gross ' +
    'demand deaths births cases mpg gallon weather expectancy expect fertility mortality ridership riders ' +
    'passengers grade severity damage letter lettr digit medv delay delays'
  ).split(' '),
);
const COORDINATE_WORDS = new Set(
  'lat latitude lon lng long longitude coord coords coordinate coordinates zip zipcode postcode postal easting northing'.split(
    ' ',
  ),
);
const DATE_PART_WORDS = new Set('year month week weekday dow doy quarter hour minute weekofyear dayofweek'.split(' '));
const EVENT_WORDS = new Set(
  'holiday holidays weekend workingday workday game games event events home away schedule scheduled opponent closure closed'.split(
    ' ',
  ),
);
/** how much a forecast candidate's lag-1 autocorrelation adds to its score (a persistent series first) */
const PERSISTENCE_WEIGHT = 0.2;
/** a time column needs this many distinct values to index a series worth forecasting */
const MIN_TIME_STEPS = 8;
/** key candidates: columns with at most this many values, whose combinations fill the table */
const MAX_KEY_VALUES = 500;
const MAX_KEY_COLUMNS = 12;
const KEY_FILL = 2;

/**
 * Which columns are targets a competition host would publish, best first, and why the others are
 * not: identifiers, coordinates, date parts, the keys of a panel or designed table and the fixed
 * attributes of its series, schedule/event indicators of time-indexed data, near-deterministic
 * functions of other columns, and, once the data has an outcome, the inputs that explain it.
 */
export function judgeTargets(
  columns: Column[],
  raw: (RawCandidate | string)[],
  rows: number,
  documentation?: string,
): JudgedTargets {
  const notTarget = new Map<string, string>();
  const { keys, timeIndex } = keysOf(columns, rows);
  const documented = documentedTargets(
    documentation,
    columns.map((c) => c.name),
  );
  const attributes = timeIndex && keys.length > 0 ? seriesAttributes(columns, keys) : new Set<string>();
  const last = columns.at(-1);
  // One label among numeric measurements (letter recognition, digits, wine): the label is what they describe.
  const labels = columns.filter((c) => c.profile.kind === 'categorical');
  const measured = columns.filter((c) => c.profile.kind === 'numeric' || c.profile.kind === 'integer').length;
  const soleLabel = labels.length === 1 && measured >= 3 ? labels[0] : undefined;
  const judged: CandidateTarget[] = [];
  for (const r of raw) {
    if (typeof r === 'string') continue;
    const c = r.column;
    const named = c.tokens.some((t) => OUTCOME_WORDS.has(t));
    const classification = r.taskType !== 'regression';
    const excluded = excludedBecause(c, classification, { keys, timeIndex, attributes, named, documented });
    if (excluded) {
      notTarget.set(c.name, excluded);
      continue;
    }
    const forecasting = !classification && timeIndex !== undefined;
    const notes: string[] = [];
    let score = forecasting ? 0.6 : r.base;
    if (named) notes.push('named like an outcome');
    if (documented.has(c.name)) notes.push("named as what to predict by the dataset's documentation");
    if (c === last) notes.push('last column');
    if (c === soleLabel) notes.push('the one label among numeric measurements');
    // among series, the ones whose past tells most about their next value are forecast first
    const persists = forecasting ? persistence(c, timeIndex!, keys) : 0;
    if (forecasting)
      notes.push(
        `a series indexed by "${timeIndex!.name}"${keys.length ? ` per ${keys.map((k) => k.name).join(', ')}` : ''}` +
          ` (lag-1 autocorrelation ${persists.toFixed(2)})`,
      );
    score +=
      PERSISTENCE_WEIGHT * Math.max(0, persists) +
      (named ? 0.25 : 0) +
      (documented.has(c.name) ? 0.25 : 0) +
      (c === last ? 0.1 : 0) +
      (c === soleLabel ? 0.15 : 0) -
      c.profile.missing / 2;
    judged.push({
      column: c.name,
      taskType: forecasting ? 'forecasting' : r.taskType,
      score: round(Math.min(1, Math.max(0, score)), 3),
      reason: [r.what, ...notes].join('; '),
      outcome: named || documented.has(c.name) || forecasting,
    });
  }
  judged.sort(
    (a, b) =>
      Number(b.outcome) - Number(a.outcome) ||
      Number(b.taskType === 'forecasting') - Number(a.taskType === 'forecasting') ||
      b.score - a.score,
  );
  const accepted: CandidateTarget[] = [];
  const byName = new Map(columns.map((c) => [c.name, c]));
  // A derived column is set aside for every later target; a target it is computed from must not see it.
  const derivedColumns = new Map<string, Derivation>();
  const leakageSuspects: LeakageSuspect[] = [];
  for (const t of judged) {
    const target = byName.get(t.column)!;
    const found = t.taskType.endsWith('classification')
      ? undefined
      : derivedFrom(target, columns, [...accepted.map((a) => a.column), ...derivedColumns.keys()]);
    if (found) {
      derivedColumns.set(t.column, found);
      notTarget.set(t.column, derivedReason(found));
      continue;
    }
    accepted.push(t);
    for (const [column, d] of derivedColumns)
      if (d.columns.includes(t.column))
        leakageSuspects.push({ column, target: t.column, reason: `computed from "${t.column}": ${derivedReason(d)}` });
  }
  const outcome = accepted.find((t) => t.outcome);
  const kept = outcome ? accepted.filter((t) => t.outcome) : accepted;
  for (const t of accepted)
    if (!kept.includes(t))
      notTarget.set(
        t.column,
        `an input that explains the outcome "${outcome!.column}", not what the data was collected to predict`,
      );
  return {
    candidateTargets: kept,
    notTarget,
    leakageSuspects: leakageSuspects.filter((s) => kept.some((t) => t.column === s.target)),
    keyColumns: keys.map((k) => k.name),
    ...(timeIndex ? { timeIndex: timeIndex.name } : {}),
  };
}

function excludedBecause(
  c: Column,
  classification: boolean,
  context: {
    keys: Column[];
    timeIndex?: Column;
    attributes: Set<string>;
    named: boolean;
    documented: Set<string>;
  },
): string | undefined {
  const { keys, timeIndex, attributes, named, documented } = context;
  if (c.tokens.some((t) => COORDINATE_WORDS.has(t)))
    return 'a coordinate or location code: where a row is, not an outcome';
  const max = c.profile.stats?.max ?? Infinity;
  const min = c.profile.stats?.min ?? -Infinity;
  const timeOfDay = c.tokens.includes('time') && min >= 0 && max <= 2400;
  if (c.tokens.some((t) => DATE_PART_WORDS.has(t)) || (c.tokens.includes('day') && max <= 31) || timeOfDay)
    return 'a date part: known from the calendar, not predicted';
  if (keys.includes(c))
    return timeIndex
      ? `with "${timeIndex.name}" it names the series a row belongs to, not an outcome`
      : `with ${keys
          .filter((k) => k !== c)
          .map((k) => `"${k.name}"`)
          .join(', ')} it identifies the row's cell in a designed table`;
  if (attributes.has(c.name))
    return `a fixed attribute of each series (constant within ${keys.map((k) => `"${k.name}"`).join(', ')})`;
  if (classification && !named && !documented.has(c.name)) {
    if (c.tokens.some((t) => EVENT_WORDS.has(t)))
      return 'a schedule or event indicator: known in advance, not an outcome';
    if (timeIndex)
      return `a schedule or event indicator of data indexed by "${timeIndex.name}": forecast its numeric series instead`;
  }
  return undefined;
}

/**
 * Whether a numeric target is a near-deterministic function of other columns. Left out: the columns
 * named in `aside` (targets kept, columns already found derived), and single columns that alone
 * give it (leakage suspects, which the task drops from its features).
 */
function derivedFrom(target: Column, columns: Column[], aside: string[]): Derivation | undefined {
  const y = numbersOf(target);
  const predictors = columns.filter(
    (c) =>
      c !== target &&
      ['numeric', 'integer', 'boolean'].includes(c.profile.kind) &&
      !aside.includes(c.name) &&
      Math.abs(pearson(y, numbersOf(c))) < Math.sqrt(DERIVED_R2),
  );
  return derivation(
    y,
    predictors.map((c) => ({ name: c.name, values: numbersOf(c) })),
  );
}

function derivedReason(found: Derivation): string {
  const names = found.columns.map((n) => `"${n}"`).join(', ');
  return (
    `a near-deterministic function of ${names} (${found.log ? 'a product of powers' : 'linear'}, ` +
    `R² ${found.r2.toFixed(3)} ≥ ${DERIVED_R2}): predicting it is arithmetic, not learning`
  );
}

/**
 * The smallest set of low-cardinality columns whose values identify every row and whose combinations
 * nearly fill the table (a panel: time × series; a designed table: factor × factor), and the time
 * column among them (or alone unique) with enough steps to forecast along.
 */
function keysOf(columns: Column[], rows: number): { keys: Column[]; timeIndex?: Column } {
  const steps = (c: Column) => c.profile.kind === 'datetime' && c.profile.distinct >= MIN_TIME_STEPS;
  const alone = columns.find((c) => steps(c) && c.profile.distinct >= 0.9 * c.present && c.present === rows);
  if (alone) return { keys: [], timeIndex: alone };
  const keyable = columns
    .filter(
      (c) =>
        ['categorical', 'boolean', 'integer', 'datetime'].includes(c.profile.kind) &&
        c.present === rows &&
        c.profile.distinct >= 2 &&
        c.profile.distinct <= Math.min(c.profile.kind === 'datetime' ? Infinity : MAX_KEY_VALUES, rows / 2),
    )
    .sort((a, b) => Number(steps(b)) - Number(steps(a)) || a.profile.distinct - b.profile.distinct)
    .slice(0, MAX_KEY_COLUMNS);
  let best: Column[] | undefined;
  for (const set of keySets(keyable)) {
    const product = set.reduce((p, c) => p * c.profile.distinct, 1);
    if (product > KEY_FILL * rows || !unique(set, rows)) continue;
    const better =
      !best ||
      Number(set.some(steps)) > Number(best.some(steps)) ||
      (set.some(steps) === best.some(steps) && set.length < best.length);
    if (better) best = set;
  }
  if (!best) return { keys: [] };
  const timeIndex = best.filter(steps).sort((a, b) => b.profile.distinct - a.profile.distinct)[0];
  return { keys: best.filter((c) => c !== timeIndex), ...(timeIndex ? { timeIndex } : {}) };
}

function* keySets(columns: Column[]): Generator<Column[]> {
  for (let i = 0; i < columns.length; i++) {
    yield [columns[i]!];
    for (let j = i + 1; j < columns.length; j++) {
      yield [columns[i]!, columns[j]!];
      for (let k = j + 1; k < columns.length; k++) yield [columns[i]!, columns[j]!, columns[k]!];
    }
  }
}

/**
 * Lag-1 autocorrelation of a numeric series, rows ordered by time within each series (the keys), each
 * series centred on its own mean: near 1 for a smooth series (temperatures), near 0 for noise (daily rain).
 */
function persistence(c: Column, timeIndex: Column, keys: Column[]): number {
  const values = numbersOf(c);
  const series = new Map<string, { t: number; v: number }[]>();
  for (let r = 0; r < values.length; r++) {
    const t = Date.parse(String(timeIndex.values[r]));
    if (Number.isNaN(values[r]!) || Number.isNaN(t)) continue;
    const key = keys.map((k) => k.values[r]).join('\u0001');
    const points = series.get(key) ?? [];
    points.push({ t, v: values[r]! });
    series.set(key, points);
  }
  const before: number[] = [];
  const after: number[] = [];
  for (const points of series.values()) {
    points.sort((a, b) => a.t - b.t);
    const mean = points.reduce((sum, p) => sum + p.v, 0) / points.length;
    for (let i = 1; i < points.length; i++) {
      before.push(points[i - 1]!.v - mean);
      after.push(points[i]!.v - mean);
    }
  }
  const r = before.length > 2 ? pearson(Float64Array.from(before), Float64Array.from(after)) : 0;
  return Number.isFinite(r) ? r : 0;
}

function unique(set: Column[], rows: number): boolean {
  const seen = new Set<string>();
  for (let r = 0; r < rows; r++) {
    const key = set.map((c) => c.values[r]).join('\u0001');
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** Columns (other than the keys) with one value within each series. */
function seriesAttributes(columns: Column[], keys: Column[]): Set<string> {
  const found = new Set<string>();
  for (const c of columns) {
    if (keys.includes(c) || !['categorical', 'boolean', 'integer'].includes(c.profile.kind)) continue;
    const seen = new Map<string, string | null>();
    let constant = true;
    for (let r = 0; r < c.values.length && constant; r++) {
      const key = keys.map((k) => k.values[r]).join('\u0001');
      const v = c.values[r] ?? null;
      if (seen.has(key) && seen.get(key) !== v) constant = false;
      seen.set(key, v);
    }
    if (constant && seen.size < c.values.length) found.add(c.name);
  }
  return found;
}
