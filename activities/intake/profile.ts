import type { CandidateTarget, ColumnKind, ColumnProfile, DatasetProfile, LeakageSuspect } from '../../domain/profile';
import type { Cell, Table } from './read-table';
import { judgeTargets, type RawCandidate } from './targets';
import { type Column, LEAK, nameTokens, NUMBER, numbersOf, pearson, percent, round, sortedCounts } from './columns';

/** What profiling learns from the table alone (the rest of DatasetProfile comes from intake). */
export type TableProfile = Pick<
  DatasetProfile,
  | 'rows'
  | 'columns'
  | 'candidateTargets'
  | 'idColumns'
  | 'timeColumns'
  | 'textColumns'
  | 'leakageSuspects'
  | 'keyColumns'
  | 'timeIndex'
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
const NAMED_LEAK = 0.8;
/** near-equal scores make a short cut-off arbitrary, so most candidates are checked */
const LEAKAGE_TARGETS = 20;
const MAX_TOP = 20;

const ID_WORDS = new Set(['id', 'key', 'uuid', 'guid', 'idx']);
const TIME_WORDS = new Set(['date', 'time', 'timestamp', 'datetime', 'year', 'month', 'period', 'dt', 'ts']);
const BOOLEAN_PAIRS = ['false|true', 'no|yes', 'f|t', 'n|y', '0|1'];
const NOT_TARGET_KIND: Partial<Record<ColumnKind, string>> = {
  id: 'an identifier (unique per row)',
  constant: 'one value in every row',
  text: 'free text',
  datetime: 'a date or time',
};
const NOT_TARGETS = new Set(Object.keys(NOT_TARGET_KIND));
const DATE_PATTERNS = [
  /^\d{4}-\d{1,2}(-\d{1,2})?([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/,
  /^\d{4}\/\d{1,2}\/\d{1,2}( \d{1,2}:\d{2}(:\d{2})?)?$/,
  /^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?$/,
  /^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/,
  // month names: "Jan 1 2000", "1 January 2000", "March 2001"
  /^(\d{1,2} )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?( \d{1,2},?)? \d{4}$/i,
];
const INTEGER = /^[+-]?\d+$/;

/** The table's columns and candidate targets; `documentation` (a README) helps judge what the data is for. */
export function profileTable(table: Table, documentation?: string): TableProfile {
  const columns = table.columns.map((name, i) => describeColumn(name, table.values[i]!, table.rows));
  const raw = columns.map(candidate);
  const judged = judgeTargets(columns, raw, table.rows, documentation);
  for (const [i, c] of columns.entries()) {
    const reason = typeof raw[i] === 'string' ? raw[i] : judged.notTarget.get(c.name);
    if (reason) c.profile.notTarget = reason;
  }
  // Leakage is looked for around every column that could be a target, the judged ones first.
  const possible = raw.flatMap((r) =>
    typeof r === 'string' || judged.candidateTargets.some((t) => t.column === r.column.name)
      ? []
      : [{ column: r.column.name, taskType: r.taskType }],
  );
  const ofKind = (kind: ColumnKind) => columns.filter((c) => c.profile.kind === kind).map((c) => c.name);
  return {
    rows: table.rows,
    columns: columns.map((c) => c.profile),
    candidateTargets: judged.candidateTargets,
    idColumns: ofKind('id'),
    timeColumns: ofKind('datetime'),
    textColumns: ofKind('text'),
    leakageSuspects: [
      ...judged.leakageSuspects,
      ...leakageSuspects(columns, [...judged.candidateTargets, ...possible].slice(0, LEAKAGE_TARGETS)),
    ],
    keyColumns: judged.keyColumns,
    ...(judged.timeIndex ? { timeIndex: judged.timeIndex } : {}),
  };
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

/** What a column could be as a target, judged from the column alone; a string says why it cannot be one. */
function candidate(column: Column): RawCandidate | string {
  const { kind, missing, distinct, stats } = column.profile;
  if (NOT_TARGETS.has(kind)) return NOT_TARGET_KIND[kind]!;
  if (column.tokens.some((t) => ID_WORDS.has(t))) return 'named like an identifier';
  if (missing > MAX_TARGET_MISSING) return `${percent(missing)} missing (over ${percent(MAX_TARGET_MISSING)})`;
  const notes = missing > 0 ? `; ${percent(missing)} missing` : '';
  if (kind === 'categorical' || kind === 'boolean' || (kind === 'integer' && distinct <= MAX_INTEGER_CLASSES)) {
    const all = sortedCounts(column.counts);
    const classes = all.filter(([, n]) => n >= MIN_CLASS_ROWS);
    const rare = column.present - classes.reduce((sum, [, n]) => sum + n, 0);
    if (classes.length > MAX_CLASSES || all.length > MAX_CLASSES * 4)
      return `${all.length} distinct values: a name or code, too many to be classes`;
    if (rare > MAX_RARE_SHARE * column.present)
      return `${percent(rare / column.present)} of rows in classes of under ${MIN_CLASS_ROWS} rows`;
    if (classes.length < 2) return `one class with ${MIN_CLASS_ROWS} or more rows`;
    const shown =
      classes
        .slice(0, 3)
        .map(([v, n]) => `${v} ${n}`)
        .join(', ') + (classes.length > 3 ? ', …' : '');
    const what =
      `${classes.length} classes (${shown})` + (rare ? `, ${rare} row${rare === 1 ? '' : 's'} in rarer classes` : '');
    const taskType = classes.length === 2 ? 'binary-classification' : 'multiclass-classification';
    return { column, taskType, base: 0.5 + 0.1 * balance(classes.map(([, n]) => n)), what: what + notes };
  }
  if ((kind === 'numeric' && distinct >= MIN_REGRESSION_DISTINCT) || kind === 'integer') {
    const what = `numeric, ${distinct} distinct values from ${stats!.min} to ${stats!.max}`;
    return { column, taskType: 'regression', base: 0.5, what: what + notes };
  }
  return `numeric with only ${distinct} distinct values`;
}

/** Normalised entropy: 1 = classes of equal size. */
function balance(sizes: number[]): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  const entropy = -sizes.reduce((h, n) => h + (n / total) * Math.log(n / total), 0);
  return entropy / Math.log(sizes.length);
}

/** Other columns that (nearly) give away a candidate target. */
function leakageSuspects(columns: Column[], targets: Pick<CandidateTarget, 'column' | 'taskType'>[]): LeakageSuspect[] {
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

/** 1 where a binary target holds its most frequent class, else 0; NaN where missing. */
function indicator(target: Column): Float64Array {
  const [majority] = sortedCounts(target.counts)[0]!;
  return Float64Array.from(target.values, (v) => (v === null ? NaN : v === majority ? 1 : 0));
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

function weightedMean(counts: Map<string, number>, n: number, f: (value: string) => number): number {
  let sum = 0;
  for (const [v, c] of counts) sum += f(v) * c;
  return n ? sum / n : 0;
}

function normalised(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}
