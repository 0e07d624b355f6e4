import { describe, expect, it } from 'vitest';
import { averageRanks, fidelityChart, fidelityReport, spearman, taskSetOf } from '../domain/fidelity';
import { renderSvg } from '../cli/chart';

const POLICIES = ['constant', 'single', 'linear', 'tree', 'boosting'];

describe('the fidelity report', () => {
  it("computes Spearman's ρ on average ranks, ties shared", () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3, 4, 5], [1, 2, 3, 5, 4])).toBeCloseTo(0.9, 12); // one adjacent swap
    expect(spearman([1, 2, 3], [7, 7, 7])).toBeUndefined();
  });

  it('orients scores by the metric, places the policies per task and compares the sets', () => {
    const report = fidelityReport(POLICIES, [
      { taskId: 'a', set: 'forged', higherIsBetter: true, scores: [0.5, 0.6, 0.7, 0.8, 0.9] },
      { taskId: 'b', set: 'forged', higherIsBetter: false, scores: [9, 8, 7, 6, 5] },
      { taskId: 'c', set: 'imported', higherIsBetter: true, scores: [0.5, 0.6, 0.8, 0.7, undefined] },
      { taskId: 'd', set: 'micro', higherIsBetter: true, scores: [0.9, 0.8, 0.7, 0.6, 0.5] },
    ]);
    expect(report.tasks.map((t) => t.rho)).toEqual([1, 1, expect.closeTo(0.8, 12), -1]);
    expect(report.tasks[2]!.placeOf).toEqual([0, 1 / 3, 1, 2 / 3, undefined]);
    const forged = report.sets.find((s) => s.set === 'forged')!;
    expect(forged).toMatchObject({ tasks: 2, meanRho: 1, meanPlace: [0, 0.25, 0.5, 0.75, 1] });
    const agreement = (a: string, b: string) => report.agreement.find((x) => x.a === a && x.b === b)?.rho;
    expect(agreement('forged', 'imported')).toBeCloseTo(0.8, 12); // over the four policies both scored
    expect(agreement('forged', 'micro')).toBeCloseTo(-1, 12);
  });

  it('sorts tasks into sets by their manifests', () => {
    const seeds = new Set(['iris']);
    expect(taskSetOf({ id: 'x', synthetic: { seedTaskId: 'iris' } }, seeds)).toBe('micro');
    expect(taskSetOf({ id: 'iris' }, seeds)).toBe('seed');
    expect(taskSetOf({ id: 'p', source: { kind: 'mle-bench' } }, seeds)).toBe('imported');
    expect(taskSetOf({ id: 'q' }, seeds)).toBe('forged');
  });

  it('draws the chart as SVG without a browser: a line per set, named in the legend', async () => {
    const report = fidelityReport(POLICIES, [
      { taskId: 'a', set: 'forged', higherIsBetter: true, scores: [0.5, 0.6, 0.7, 0.8, 0.9] },
      { taskId: 'c', set: 'imported', higherIsBetter: true, scores: [0.5, 0.6, 0.8, 0.7, 0.95] },
    ]);
    const svg = await renderSvg(fidelityChart(report));
    expect(svg).toMatch(/^<svg/);
    for (const text of ['forged (1)', 'imported (1)', 'boosting', 'constant']) expect(svg).toContain(text);
  });
});
