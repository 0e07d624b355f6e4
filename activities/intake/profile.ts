import type { CandidateTarget, ColumnKind, ColumnProfile, DatasetProfile, LeakageSuspect } from '../../domain/profile';
import type { Cell, Table } from './read-table';

/** What profiling learns from the table alone (the rest of DatasetProfile comes from intake). */
export type TableProfile = Pick<
  DatasetProfile,
  'rows' | 'columns' | 'candidateTargets' | 'idColumns' | 'timeColumns' | 'textColumns' | 'leakageSuspects'
>;

// Thresholds.
const MAX_TARGET_MISSING = 0.3;
/** a class needs this many rows to count; rarer classes may hold at most MAX_RARE_SHARE of rows */
const MIN_CLASS_ROWS = 5;
const MAX_RARE_SHARE = 0.05;
const MAX_CLASSES = 50;
/** integer columns with more distinct values than this are quantities (regression), not classes */
const MAX_INTEGER_CLASSES = 10;
const MIN_REGRESSION_DISTINCT = 10;
const DATE_SHARE = 0.95;
const HINTED_DATE_SHARE = 0.8;
/** a time column with this share of distinct values indexes a time series (→ forecasting) */
const TIME_INDEX_DISTINCT = 0.9;
const LEAK = 0.98;
const NAMED_LEAK = 0.8;
/** near-equal scores make a short cut-off arbitrary, so most candidates are checked */
const LEAKAGE_TARGETS = 20;
const MAX_TOP = 20;

const ID_WORDS = new Set(['id', 'key', 'uuid', 'guid', 'idx']);
const TIME_WORDS = new Set(['date', 'time', 'timestamp', 'datetime', 'year', 'month', 'period', 'dt', 'ts']);
const TARGET_WORDS = new Set([
  'target',
  'label',
  'class',
  'y',
  'outcome',
  'result',
  'species',
  'survived',
  'churn',
  'price',
  'quality',
  'category',
  'sentiment',
  'rating',
  'diagnosis',
]);
const BOOLEAN_PAIRS = ['false|true', 'no|yes', 'f|t', 'n|y', '0|1'];
const NOT_TARGETS = new Set<ColumnKind>(['id', 'constant', 'text', 'datetime']);
const DATE_PATTERNS = [
  /^\d{4}-\d{1,2}(-\d{1,2})?([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/,
  /^\d{4}\/\d{1,2}\/\d{1,2}( \d{1,2}:\d{2}(:\d{2})?)?$/,
  /^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?$/,
  /^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/,
];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

interface Column {
  name: string;
  tokens: string[];
  values: Cell[];
  /** rows with a value */
  present: number;
  counts: Map<string, number>;
  profile: ColumnProfile;
  numbers?: Float64Array;
}

export function profileTable(table: Table): TableProfile {
  const columns = table.columns.map((name, i) => describeColumn(name, table.values[i]!, table.rows));
  const timeIndex = columns.find(
    (c) => c.profile.kind === 'datetime' && c.profile.distinct >= TIME_INDEX_DISTINCT * c.present,
  );
  const candidateTargets = columns
    .flatMap((c, i) => candidate(c, i === columns.length - 1, timeIndex) ?? [])
    .sort((a, b) => b.score - a.score);
  const ofKind = (kind: ColumnKind) => columns.filter((c) => c.profile.kind === kind).map((c) => c.name);
  return {
    rows: table.rows,
    columns: columns.map((c) => c.profile),
    candidateTargets,
    idColumns: ofKind('id'),
    timeColumns: ofKind('datetime'),
    textColumns: ofKind('text'),
    leakageSuspects: leakageSuspects(columns, candidateTargets.slice(0, LEAKAGE_TARGETS)),
  };
}

/** Name words: `PassengerId` → passenger, id; `Body Mass (g)` → body, mass, g. */
function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function describeColumn(name: string, values: Cell[], rows: number): Column {
  const counts = new Map<string, number>();
  let present = 0;
  for (const v of values) {
    if (v === null) continue;
    present++;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const tokens = nameTokens(name);
  const kind = kindOf(tokens, counts, present, rows);
  const profile: ColumnProfile = { name, kind, missing: round(1 - present / (rows || 1), 4), distinct: counts.size };
  if (kind === 'numeric' || kind === 'integer') profile.stats = stats(counts, present);
  if (kind === 'categorical' || kind === 'boolean')
    profile.top = sortedCounts(counts)
      .slice(0, MAX_TOP)
      .map(([value, count]) => ({ value, count }));
  if (kind === 'text')
    profile.meanLength = round(
      weightedMean(counts, present, (v) => v.length),
      1,
    );
  return { name, tokens, values, present, counts, profile };
}

function kindOf(tokens: string[], counts: Map<string, number>, present: number, rows: number): ColumnKind {
  if (counts.size <= 1) return 'constant';
  const keys = [...counts.keys()];
  if (
    counts.size === 2 &&
    BOOLEAN_PAIRS.includes(
      keys
        .map((k) => k.trim().toLowerCase())
        .sort()
        .join('|'),
    )
  )
    return 'boolean';
  const numeric = keys.every((k) => NUMBER.test(k.trim()));
  const integer = numeric && keys.every((k) => INTEGER.test(k.trim()));
  if (isDatetime(tokens, keys, counts, present, numeric, integer)) return 'datetime';
  if (counts.size === rows && isIdLike(tokens, keys, counts, numeric, integer)) return 'id';
  if (numeric) return integer ? 'integer' : 'numeric';
  const distinctShare = counts.size / present;
  const meanLength = weightedMean(counts, present, (v) => v.length);
  const meanWords = weightedMean(counts, present, (v) => (v.trim().match(/\s+/g)?.length ?? 0) + 1);
  if ((meanLength >= 50 && distinctShare >= 0.2) || (meanLength >= 20 && meanWords >= 3 && distinctShare >= 0.5))
    return 'text';
  return 'categorical';
}

/**
 * Date/time strings (most values match a date pattern; fewer need to when the name says so), or
 * integers whose name says time: years (1800–2200), YYYYMMDD, epoch seconds or milliseconds.
 */
function isDatetime(
  tokens: string[],
  keys: string[],
  counts: Map<string, number>,
  present: number,
  numeric: boolean,
  integer: boolean,
): boolean {
  const hinted = tokens.some((t) => TIME_WORDS.has(t));
  if (numeric) {
    if (!integer || !hinted) return false;
    const numbers = keys.map(Number);
    const all = (lo: number, hi: number) => numbers.every((n) => n >= lo && n <= hi);
    if (tokens.includes('year')) return all(1800, 2200);
    return all(18000101, 22001231) || all(1e9, 2.2e9) || all(1e12, 2.2e12);
  }
  let matching = 0;
  for (const [value, count] of counts) if (DATE_PATTERNS.some((p) => p.test(value.trim()))) matching += count;
  return matching >= (hinted ? HINTED_DATE_SHARE : DATE_SHARE) * present;
}

/** Unique per row (checked by the caller) and: named like an id, a run of integers, or short codes without spaces. */
function isIdLike(
  tokens: string[],
  keys: string[],
  counts: Map<string, number>,
  numeric: boolean,
  integer: boolean,
): boolean {
  if (tokens.some((t) => ID_WORDS.has(t))) return !numeric || integer;
  if (integer) {
    let min = Infinity,
      max = -Infinity;
    for (const k of keys) {
      min = Math.min(min, Number(k));
      max = Math.max(max, Number(k));
    }
    return max - min + 1 === keys.length;
  }
  if (numeric) return false;
  const spaced = keys.filter((k) => /\s/.test(k.trim())).length;
  return spaced <= 0.05 * keys.length && weightedMean(counts, keys.length, (v) => v.length) <= 64;
}

function candidate(column: Column, isLast: boolean, timeIndex: Column | undefined): CandidateTarget | undefined {
  const { kind, missing, distinct, stats } = column.profile;
  if (NOT_TARGETS.has(kind) || missing > MAX_TARGET_MISSING || column.tokens.some((t) => ID_WORDS.has(t)))
    return undefined;
  const notes: string[] = [];
  let bonus = -missing / 2;
  if (missing > 0) notes.push(`${percent(missing)} missing`);
  if (column.tokens.some((t) => TARGET_WORDS.has(t))) {
    bonus += 0.3;
    notes.push('named like a target');
  }
  if (isLast) {
    bonus += 0.1;
    notes.push('last column');
  }
  const make = (taskType: CandidateTarget['taskType'], score: number, what: string): CandidateTarget => ({
    column: column.name,
    taskType,
    score: round(Math.min(1, Math.max(0, score + bonus)), 3),
    reason: [what, ...notes].join('; '),
  });

  if (kind === 'categorical' || kind === 'boolean' || (kind === 'integer' && distinct <= MAX_INTEGER_CLASSES)) {
    const all = sortedCounts(column.counts);
    const classes = all.filter(([, n]) => n >= MIN_CLASS_ROWS);
    const rare = column.present - classes.reduce((sum, [, n]) => sum + n, 0);
    if (rare > MAX_RARE_SHARE * column.present || classes.length < 2 || classes.length > MAX_CLASSES) return undefined;
    const shown =
      classes
        .slice(0, 3)
        .map(([v, n]) => `${v} ${n}`)
        .join(', ') + (classes.length > 3 ? ', …' : '');
    const what =
      `${classes.length} classes (${shown})` + (rare ? `, ${rare} row${rare === 1 ? '' : 's'} in rarer classes` : '');
    const type = classes.length === 2 ? 'binary-classification' : 'multiclass-classification';
    return make(type, 0.5 + 0.1 * balance(classes.map(([, n]) => n)), what);
  }
  if ((kind === 'numeric' && distinct >= MIN_REGRESSION_DISTINCT) || kind === 'integer') {
    const what = `numeric, ${distinct} distinct values from ${stats!.min} to ${stats!.max}`;
    if (timeIndex) return make('forecasting', 0.55, `${what}, indexed by time column "${timeIndex.name}"`);
    return make('regression', 0.55, what);
  }
  return undefined;
}

/** Normalised entropy: 1 = classes of equal size. */
function balance(sizes: number[]): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  const entropy = -sizes.reduce((h, n) => h + (n / total) * Math.log(n / total), 0);
  return entropy / Math.log(sizes.length);
}

/** Other columns that (nearly) give away a candidate target. */
function leakageSuspects(columns: Column[], targets: CandidateTarget[]): LeakageSuspect[] {
  const suspects: LeakageSuspect[] = [];
  for (const { column: targetName, taskType } of targets) {
    const target = columns.find((c) => c.name === targetName)!;
    for (const other of columns) {
      if (other === target || other.profile.kind === 'id' || other.profile.kind === 'constant') continue;
      const found = association(target, other, taskType);
      if (!found) continue;
      const named = normalised(target.name).length >= 3 && normalised(other.name).includes(normalised(target.name));
      if (found.value >= LEAK) suspects.push({ column: other.name, target: target.name, reason: found.text });
      else if (named && found.value >= NAMED_LEAK)
        suspects.push({
          column: other.name,
          target: target.name,
          reason: `name contains "${target.name}" and ${found.text}`,
        });
    }
  }
  return suspects;
}

/**
 * How strongly `other` determines the target: purity of the target within each value of a
 * low-cardinality column (only when it at least halves the majority-class error), |Pearson r|
 * between numbers, or the correlation ratio of a numeric target over a low-cardinality column.
 */
function association(
  target: Column,
  other: Column,
  taskType: CandidateTarget['taskType'],
): { value: number; text: string } | undefined {
  const lowCardinality =
    other.profile.distinct <= MAX_CLASSES && other.profile.distinct * MIN_CLASS_ROWS <= other.present;
  const otherNumeric = ['numeric', 'integer', 'boolean'].includes(other.profile.kind);
  if (taskType.endsWith('classification')) {
    if (lowCardinality) {
      const { purity, baseline } = purityOf(target, other);
      if (purity - baseline < 0.5 * (1 - baseline)) return undefined;
      return { value: purity, text: `its value gives "${target.name}" for ${percent(purity)} of rows` };
    }
    if (taskType === 'binary-classification' && otherNumeric) {
      const r = Math.abs(pearson(indicator(target), numbersOf(other)));
      return { value: r, text: `|r| = ${r.toFixed(3)} with "${target.name}"` };
    }
    return undefined;
  }
  if (otherNumeric) {
    const r = Math.abs(pearson(numbersOf(target), numbersOf(other)));
    return { value: r, text: `|r| = ${r.toFixed(3)} with "${target.name}"` };
  }
  if (lowCardinality) {
    const eta = correlationRatio(numbersOf(target), other.values);
    return { value: eta, text: `correlation ratio ${eta.toFixed(3)} with "${target.name}"` };
  }
  return undefined;
}

function purityOf(target: Column, other: Column): { purity: number; baseline: number } {
  const pairs = new Map<string, Map<string, number>>();
  const targetCounts = new Map<string, number>();
  let n = 0;
  for (let r = 0; r < target.values.length; r++) {
    const t = target.values[r];
    const o = other.values[r];
    if (t == null || o == null) continue;
    n++;
    targetCounts.set(t, (targetCounts.get(t) ?? 0) + 1);
    const byTarget = pairs.get(o) ?? new Map<string, number>();
    byTarget.set(t, (byTarget.get(t) ?? 0) + 1);
    pairs.set(o, byTarget);
  }
  if (n === 0) return { purity: 0, baseline: 1 };
  let pure = 0;
  for (const byTarget of pairs.values()) pure += Math.max(...byTarget.values());
  return { purity: pure / n, baseline: Math.max(...targetCounts.values()) / n };
}

/** Values as numbers (booleans as 0/1, the second-sorted value being 1); NaN where missing. */
function numbersOf(column: Column): Float64Array {
  if (column.numbers) return column.numbers;
  const truthy = column.profile.kind === 'boolean' ? [...column.counts.keys()].sort()[1] : undefined;
  column.numbers = Float64Array.from(column.values, (v) => {
    if (v === null) return NaN;
    if (truthy !== undefined) return v === truthy ? 1 : 0;
    return NUMBER.test(v.trim()) ? Number(v) : NaN;
  });
  return column.numbers;
}

/** 1 where a binary target holds its most frequent class, else 0; NaN where missing. */
function indicator(target: Column): Float64Array {
  const [majority] = sortedCounts(target.counts)[0]!;
  return Float64Array.from(target.values, (v) => (v === null ? NaN : v === majority ? 1 : 0));
}

function pearson(x: Float64Array, y: Float64Array): number {
  let n = 0,
    sx = 0,
    sy = 0,
    sxx = 0,
    syy = 0,
    sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!,
      b = y[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    n++;
    sx += a;
    sy += b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
  }
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  return n < 3 || vx <= 0 || vy <= 0 ? 0 : cov / Math.sqrt(vx * vy);
}

/** sqrt(between-group variance / total variance) of y grouped by a categorical column. */
function correlationRatio(y: Float64Array, groups: Cell[]): number {
  const sums = new Map<string, { n: number; sum: number }>();
  let n = 0,
    sum = 0,
    squares = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!,
      g = groups[i];
    if (Number.isNaN(v) || g == null) continue;
    n++;
    sum += v;
    squares += v * v;
    const s = sums.get(g) ?? { n: 0, sum: 0 };
    s.n++;
    s.sum += v;
    sums.set(g, s);
  }
  const total = squares - (sum * sum) / n;
  if (n < 3 || total <= 0) return 0;
  let between = 0;
  for (const s of sums.values()) between += s.n * (s.sum / s.n - sum / n) ** 2;
  return Math.sqrt(Math.min(1, between / total));
}

function stats(counts: Map<string, number>, present: number): NonNullable<ColumnProfile['stats']> {
  let min = Infinity,
    max = -Infinity,
    sum = 0;
  for (const [v, c] of counts) {
    const x = Number(v);
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x * c;
  }
  const mean = sum / present;
  let squares = 0;
  for (const [v, c] of counts) squares += c * (Number(v) - mean) ** 2;
  return { min, max, mean, std: present > 1 ? Math.sqrt(squares / (present - 1)) : 0 };
}

/** Most frequent first; ties by value, so the order is deterministic. */
function sortedCounts(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function weightedMean(counts: Map<string, number>, n: number, f: (value: string) => number): number {
  let sum = 0;
  for (const [v, c] of counts) sum += f(v) * c;
  return n ? sum / n : 0;
}

function normalised(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

function percent(fraction: number): string {
  return `${round(fraction * 100, 1)}%`;
}
