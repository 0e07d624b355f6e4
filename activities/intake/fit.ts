import { pearson } from './columns';

/** R² at or above this: the target is a near-deterministic function of the predictors (a total of its parts…). */
export const DERIVED_R2 = 0.99;
/** the predictors most correlated with the target that are tried, alone and in pairs and triples */
const TRIED = 6;
const MAX_SUBSET = 3;
/** rows the fit uses, evenly spaced: plenty for an R² to 2 decimals */
const SAMPLE = 5000;

export interface Derivation {
  columns: string[];
  r2: number;
  /** fitted on logarithms: a product or ratio of the columns, not a sum */
  log: boolean;
}

/**
 * Whether `target` is (nearly) a linear function of at most three of the predictors, or a product
 * of powers of them (linear in logarithms, when all are positive): ordinary least squares on a
 * sample of rows. Pure TypeScript, because intake runs in the control worker where no Python may
 * run, and a linear fit over a few columns is exactly the test for totals, differences and products.
 */
export function derivation(
  target: Float64Array,
  predictors: { name: string; values: Float64Array }[],
): Derivation | undefined {
  const rows = sampleRows(target);
  if (rows.length < 20) return undefined;
  const y = Float64Array.from(rows, (r) => target[r]!);
  const xs = predictors.map((p) => ({ name: p.name, values: Float64Array.from(rows, (r) => p.values[r]!) }));
  const ranked = xs
    .map((x) => ({ ...x, r: Math.abs(pearson(y, x.values)) }))
    .filter((x) => x.r > 0)
    .sort((a, b) => b.r - a.r)
    .slice(0, TRIED);
  let best: Derivation | undefined;
  const positive = (v: Float64Array) => v.every((x) => Number.isNaN(x) || x > 0);
  const logOf = (v: Float64Array) => v.map(Math.log);
  for (const subset of subsets(ranked, MAX_SUBSET)) {
    const linear = r2(
      y,
      subset.map((x) => x.values),
    );
    if (!best || linear > best.r2) best = { columns: subset.map((x) => x.name), r2: linear, log: false };
    if (positive(y) && subset.every((x) => positive(x.values))) {
      const logged = r2(
        logOf(y),
        subset.map((x) => logOf(x.values)),
      );
      if (logged > best.r2) best = { columns: subset.map((x) => x.name), r2: logged, log: true };
    }
    if (best.r2 >= DERIVED_R2) return best;
  }
  return undefined;
}

function sampleRows(target: Float64Array): number[] {
  const present: number[] = [];
  for (let i = 0; i < target.length; i++) if (!Number.isNaN(target[i]!)) present.push(i);
  const step = Math.max(1, Math.floor(present.length / SAMPLE));
  return present.filter((_, i) => i % step === 0);
}

function* subsets<T>(items: T[], max: number, from = 0, chosen: T[] = []): Generator<T[]> {
  for (let i = from; i < items.length; i++) {
    const next = [...chosen, items[i]!];
    yield next;
    if (next.length < max) yield* subsets(items, max, i + 1, next);
  }
}

/** R² of the least-squares fit of y on the columns and an intercept, over rows where all are present. */
function r2(target: Float64Array, predictors: Float64Array[]): number {
  // R² does not change under scaling; standardised columns keep the normal equations well conditioned.
  const y = standardised(target);
  const columns = predictors.map(standardised);
  const k = columns.length + 1;
  const xtx = Array.from({ length: k }, () => new Float64Array(k));
  const xty = new Float64Array(k);
  const row = new Float64Array(k);
  let n = 0,
    sum = 0,
    squares = 0;
  const usable = (i: number) => !Number.isNaN(y[i]!) && columns.every((c) => Number.isFinite(c[i]!));
  for (let i = 0; i < y.length; i++) {
    if (!usable(i)) continue;
    row[0] = 1;
    columns.forEach((c, j) => (row[j + 1] = c[i]!));
    for (let a = 0; a < k; a++) {
      xty[a] = xty[a]! + row[a]! * y[i]!;
      const line = xtx[a]!;
      for (let b = 0; b < k; b++) line[b] = line[b]! + row[a]! * row[b]!;
    }
    n++;
    sum += y[i]!;
    squares += y[i]! * y[i]!;
  }
  const total = squares - (sum * sum) / n;
  if (n < 20 || total <= 0) return 0;
  const beta = solve(xtx, xty);
  if (!beta) return 0;
  let residual = 0;
  for (let i = 0; i < y.length; i++) {
    if (!usable(i)) continue;
    let fitted = beta[0]!;
    columns.forEach((c, j) => (fitted += beta[j + 1]! * c[i]!));
    residual += (y[i]! - fitted) ** 2;
  }
  return Math.max(0, 1 - residual / total);
}

function standardised(v: Float64Array): Float64Array {
  let n = 0,
    sum = 0,
    squares = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) continue;
    n++;
    sum += x;
    squares += x * x;
  }
  const mean = sum / n;
  const sd = Math.sqrt(Math.max(squares / n - mean * mean, 0)) || 1;
  return v.map((x) => (x - mean) / sd);
}

/** Gaussian elimination with partial pivoting; undefined for a singular system (collinear columns). */
function solve(a: Float64Array[], b: Float64Array): Float64Array | undefined {
  const k = b.length;
  const m = a.map((r, i) => Float64Array.from([...r, b[i]!]));
  const scale = Math.max(...a.map((r, i) => Math.abs(r[i]!)));
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-12 * scale) return undefined;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]!;
    for (let r = 0; r < k; r++) {
      const line = m[r]!;
      if (r === col) continue;
      const f = line[col]! / p[col]!;
      for (let c = col; c <= k; c++) line[c] = line[c]! - f * p[c]!;
    }
  }
  return Float64Array.from({ length: k }, (_, i) => m[i]![k]! / m[i]![i]!);
}
