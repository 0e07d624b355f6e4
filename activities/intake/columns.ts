import type { ColumnProfile } from '../../domain/profile';
import type { Cell } from './read-table';

// A column as profiling holds it, and the helpers profiling and target judging share.

export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** |r| or purity at which another column gives a target away (a leakage suspect the task drops) */
export const LEAK = 0.98;

export interface Column {
  name: string;
  tokens: string[];
  values: Cell[];
  /** rows with a value */
  present: number;
  counts: Map<string, number>;
  profile: ColumnProfile;
  numbers?: Float64Array;
}

/** Name words: `PassengerId` → passenger, id; `Body Mass (g)` → body, mass, g. */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Values as numbers (booleans as 0/1, the second-sorted value being 1); NaN where missing. */
export function numbersOf(column: Column): Float64Array {
  if (column.numbers) return column.numbers;
  const truthy = column.profile.kind === 'boolean' ? [...column.counts.keys()].sort()[1] : undefined;
  column.numbers = Float64Array.from(column.values, (v) => {
    if (v === null) return NaN;
    if (truthy !== undefined) return v === truthy ? 1 : 0;
    return NUMBER.test(v.trim()) ? Number(v) : NaN;
  });
  return column.numbers;
}

export function pearson(x: Float64Array, y: Float64Array): number {
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

/** Most frequent first; ties by value, so the order is deterministic. */
export function sortedCounts(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

export function percent(fraction: number): string {
  return `${round(fraction * 100, 1)}%`;
}
