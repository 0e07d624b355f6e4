import { describe, expect, it } from 'vitest';
import { develop } from '../agents/heuristic/synth/developer';
import { write } from '../agents/heuristic/synth/writer';
import { parseLeaderboards } from '../package/leaderboard';
import { medalThresholds } from '../domain/rewards';
import {
  deriveThresholds,
  extractDna,
  type HiddenRule,
  ruleLeaks,
  type SeedFacts,
  SYNTH_CHECKS,
  synthChecks,
} from '../domain/synth';

const irisLike: SeedFacts = {
  taskId: 'iris-species',
  taskType: 'multiclass-classification',
  modality: 'tabular',
  target: 'species',
  idColumn: 'id',
  metric: { name: 'accuracy', higherIsBetter: true, bounds: [0, 1] },
  trainRows: 100,
  columns: [
    { name: 'id', kind: 'id', missing: 0, distinct: 100 },
    {
      name: 'petal_length',
      kind: 'numeric',
      missing: 0.1,
      distinct: 40,
      stats: { min: 1, max: 6.9, mean: 3.7, std: 1.7 },
    },
    {
      name: 'colour',
      kind: 'categorical',
      missing: 0,
      distinct: 3,
      top: [
        { value: 'red', count: 60 },
        { value: 'blue', count: 40 },
      ],
    },
    { name: 'site', kind: 'constant', missing: 0, distinct: 1 },
    {
      name: 'species',
      kind: 'categorical',
      missing: 0,
      distinct: 3,
      top: [
        { value: 'setosa', count: 20 },
        { value: 'virginica', count: 50 },
        { value: 'versicolor', count: 30 },
      ],
    },
  ],
};

describe('Synth, pure parts', () => {
  it('extracts the DNA: features by kind without id, target or constant columns; classes by share', () => {
    const dna = extractDna(irisLike);
    expect(dna.features.map((f) => [f.name, f.kind])).toEqual([
      ['petal_length', 'numeric'],
      ['colour', 'categorical'],
    ]);
    expect(dna.features[0]).toMatchObject({ missing: 0.1, stats: { mean: 3.7 } });
    expect(dna.features[1]).toMatchObject({ levels: 3 });
    expect(dna.label!.classes).toEqual([
      { value: 'virginica', share: 0.5 },
      { value: 'versicolor', share: 0.3 },
      { value: 'setosa', share: 0.2 },
    ]);
    expect(dna).toMatchObject({
      seedTaskId: 'iris-species',
      taskType: 'multiclass-classification',
      modality: 'tabular',
      trainRows: 100,
    });
    expect(dna.targetStats).toBeUndefined();
  });

  it('derives thresholds strictly ordered in either direction, between the best baseline and the oracle', () => {
    const up = deriveThresholds(
      {
        trivial: 0.5,
        baseline: 0.7,
        references: { 'reference-linear.py': 0.6, 'reference-nearest.py': 0.65 },
        oracle: 0.9,
      },
      { name: 'accuracy', higherIsBetter: true },
    )!;
    expect(up).toEqual({ gold: 0.85, silver: 0.8, bronze: 0.75, median: 0.65 });
    const down = deriveThresholds(
      { trivial: 9, baseline: 5, references: { 'reference-linear.py': 6 }, oracle: 1 },
      { name: 'rmse', higherIsBetter: false },
    )!;
    expect(down).toEqual({ gold: 2, silver: 3, bronze: 4, median: 5.5 });
    expect(deriveThresholds({ baseline: 1, references: {} }, { name: 'rmse', higherIsBetter: false })).toBeUndefined();
  });

  it('fails thresholds_ordered and not_trivial when a baseline already reaches the oracle', () => {
    const scores = { trivial: 0.5, baseline: 0.9, references: {}, oracle: 0.9 };
    const checks = synthChecks({
      dna: extractDna(irisLike),
      manifest: {
        taskType: 'multiclass-classification',
        modality: 'tabular',
        metric: { name: 'accuracy', higherIsBetter: true },
      },
      train: [],
      trainRows: 0,
      idColumn: 'id',
      target: 'outcome',
      rows: { train: 50, test: 50 },
      scores,
      thresholds: deriveThresholds(scores, { name: 'accuracy', higherIsBetter: true }),
      generatorHashes: ['a', 'a'],
      rule: { features: [], numbers: [], keywords: [] },
      description: '',
    });
    expect(checks.map((c) => c.name)).toEqual([...SYNTH_CHECKS]);
    const failed = checks.filter((c) => !c.passed).map((c) => c.name);
    expect(failed).toEqual(['synth.matches_dna', 'synth.not_trivial', 'synth.thresholds_ordered']);
  });

  it('a leak is a quoted rule number, a keyword, or a rule feature named outside the data dictionary', () => {
    const rule: HiddenRule = { features: ['f02'], numbers: [-1.37, 0.5], keywords: ['zorvex'] };
    const table = '| `f01` | a number |\n| `f02` | a number |\n';
    expect(ruleLeaks(`## Data\n${table}`, rule)).toEqual([]);
    expect(ruleLeaks(`${table}Rows with large f02 tend to score high.`, rule)).toEqual([
      "singles out the rule's feature f02 outside the data dictionary",
    ]);
    expect(ruleLeaks(`${table}The weight is 1.37.`, rule)).toEqual(["quotes the rule's number 1.37"]);
    expect(ruleLeaks(`${table}It ranges to 1.375.`, rule)).toEqual([]); // another number, not the weight
    expect(ruleLeaks(`${table}Look for ZORVEX.`, rule)).toEqual(['names the keyword "zorvex"']);
    // The heuristic Writer never sees the rule, and does not leak it.
    const dna = extractDna(irisLike);
    const design = develop({ dna, taskId: 'iris-species-synth-1', rows: { train: 50, test: 50 }, round: 0 });
    const { description } = write({
      taskId: 'iris-species-synth-1',
      taskType: dna.taskType,
      metric: dna.metric,
      schema: design.schema,
      rows: { train: 50, test: 50 },
    });
    expect(design.rule.features.length).toBeGreaterThan(0);
    expect(ruleLeaks(description, design.rule)).toEqual([]);
    for (const column of design.schema.columns) expect(description).toContain(column.name);
  });

  it('a threshold board makes medalThresholds return exactly the MLOps thresholds', () => {
    const csv =
      'entry,score,kind\ntrivial,12,reference\nbaseline,6,reference\ngold,2,threshold\nsilver,3,threshold\nbronze,4,threshold\nmedian,5.5,threshold\n';
    const boards = parseLeaderboards(csv);
    expect(boards.map((b) => b.name)).toEqual(['thresholds']);
    expect(medalThresholds(boards[0]!.scores, { higherIsBetter: false })).toEqual({
      gold: 2,
      silver: 3,
      bronze: 4,
      median: 5.5,
    });
    const up = parseLeaderboards(
      'entry,score,kind\ntrivial,0.5,reference\ngold,0.9,threshold\nsilver,0.8,threshold\nbronze,0.7,threshold\nmedian,0.6,threshold\n',
    );
    expect(medalThresholds(up[0]!.scores, { higherIsBetter: true })).toEqual({
      gold: 0.9,
      silver: 0.8,
      bronze: 0.7,
      median: 0.6,
    });
    // Without threshold rows, the reference board as before.
    expect(parseLeaderboards('entry,score,kind\ntrivial,0.5,reference\nbaseline,0.8,reference\n')).toEqual([
      { name: 'reference', scores: [0.5, 0.8] },
    ]);
  });
});
