import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { brainstorm } from '../agents/heuristic/brainstormer';
import { design, type DesignConfig } from '../agents/heuristic/designer';
import { refactor } from '../agents/heuristic/refactorer';
import { review } from '../agents/heuristic/reviewer';
import type { TaskProposal } from '../domain/proposal';
import { profileTable } from '../activities/intake/profile';
import { readTable } from '../activities/intake/read-table';
import type { DatasetProfile } from '../domain/profile';
import { metricSpec } from '../domain/metrics';
import { TASK_SCHEMA, type TaskManifest } from '../domain/task';
import { exampleDatasetPath } from '../examples/forge-datasets';

async function profileOf(name: string): Promise<DatasetProfile> {
  const path = await exampleDatasetPath(name, join(__dirname, '..', '.anvil', 'examples'));
  const { table, format } = await readTable(path);
  return { name, source: { files: [], format }, dataFile: path, ...profileTable(table) };
}

/** The JSON config a template file carries on its first line. */
function configOf(source: string): DesignConfig {
  const literal = /^import json; CONFIG = json\.loads\((".*")\)/.exec(source)![1]!;
  return JSON.parse(JSON.parse(literal)) as DesignConfig;
}

describe('heuristic roles on real profiles', () => {
  let penguins: DatasetProfile;
  let seattle: DatasetProfile;
  let iris: DatasetProfile;
  beforeAll(async () => {
    [penguins, seattle, iris] = (await Promise.all(['penguins', 'seattle-weather', 'iris'].map(profileOf))) as [
      DatasetProfile,
      DatasetProfile,
      DatasetProfile,
    ];
  });
  const proposalFor = (profile: DatasetProfile, target: string) =>
    brainstorm({ profile, maxTasks: 10 }).find((p) => p.target === target)!;

  /** A profile whose one candidate is the binary `Sex` (penguins' own profile keeps only Species). */
  const sexOnly = (): DatasetProfile => ({
    ...penguins,
    candidateTargets: [
      { column: 'Sex', taskType: 'binary-classification', score: 1, reason: '2 classes', outcome: true },
    ],
  });

  it('Brainstormer: distinct targets, forecasting first, at most maxTasks, each with a suited metric and its reason', () => {
    const proposals = brainstorm({ profile: seattle, maxTasks: 3 });
    expect(proposals).toHaveLength(3);
    expect(new Set(proposals.map((p) => p.target)).size).toBe(3);
    expect(proposals.every((p) => p.taskType === 'forecasting')).toBe(true); // a daily series before its weather kind
    expect(proposals.every((p) => p.rationale.length > 0 && /^[a-z0-9-]+$/.test(p.id))).toBe(true);
    expect(brainstorm({ profile: penguins, maxTasks: 3 }).map((p) => p.target)).toEqual(['Species']);
    expect(proposalFor(penguins, 'Species').metric.name).toBe('macro-f1'); // 152/124/68: imbalanced
    expect(proposalFor(penguins, 'Species').rationale).toMatch(
      /Scored with macro-F1, because the classes are imbalanced/,
    );
    expect(proposalFor(iris, 'species').metric.name).toBe('accuracy'); // 50/50/50: balanced
    expect(proposalFor(sexOnly(), 'Sex').metric.name).toBe('roc-auc');
    expect(proposalFor(seattle, 'temp_max')).toMatchObject({
      taskType: 'forecasting',
      modality: 'time-series',
      metric: { name: 'mase' },
    });
    // a forecast is judged against repeating the last value, whatever the series' scale
    expect(proposalFor(seattle, 'precipitation').metric.name).toBe('mase');
    expect(proposalFor(seattle, 'precipitation').rationale).toMatch(/MASE, because it judges a forecast against/);
    expect(brainstorm({ profile: seattle, maxTasks: 1 })).toHaveLength(1);
    // free text among the inputs makes a text task; a forecast stays a time series whatever else the table holds
    expect(proposalFor({ ...penguins, textColumns: ['Comments'] }, 'Species').modality).toBe('text');
    expect(proposalFor({ ...seattle, textColumns: ['notes'] }, 'temp_max').modality).toBe('time-series');
  });

  it('Designer: a binary task keeps the two main classes, the rarer positive; a time series splits by time', () => {
    const sex = design({ profile: penguins, proposal: proposalFor(sexOnly(), 'Sex'), round: 0 });
    expect(Object.keys(sex.files).sort()).toEqual([
      'description.md',
      'metric.py',
      'prepare.py',
      'solutions/baseline.py',
      'task.json',
    ]);
    const config = configOf(sex.files['prepare.py']!);
    expect(config.classes).toEqual(['MALE', 'FEMALE']); // the stray "." value is left out
    expect(config.positive).toBe('FEMALE');
    expect(config.stratify).toBe(true);
    expect(JSON.parse(sex.files['task.json']!)).toMatchObject({
      schema: TASK_SCHEMA,
      target: 'Sex',
      idColumn: 'id',
      metric: { name: 'roc-auc' },
    });
    expect(sex.files['description.md']).toMatch(/## Submission format[\s\S]*id,Sex\n100000,0\.5/);
    // the description says why the metric fits
    expect(sex.files['description.md']).toMatch(/## Overview\n\n.*Scored with ROC-AUC, because /);

    const forecast = design({ profile: seattle, proposal: proposalFor(seattle, 'temp_max'), round: 0 });
    // a forecast: split at one origin, the last 10% of the 1461 days (at most 60) ahead, one series
    expect(configOf(forecast.files['prepare.py']!)).toMatchObject({ time: 'date', series: [], horizon: 60 });
    expect(JSON.parse(forecast.files['task.json']!)).toMatchObject({
      taskType: 'forecasting',
      forecast: { time: 'date', series: [], horizon: 60 },
    });
    expect(forecast.files['solutions/baseline.py']).toMatch(/lag and rolling features/);
  });

  it('a multi-series time table: forecasting first, time-series modality, MASE, one series per symbol', async () => {
    const path = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'stocks.csv');
    const { table, format } = await readTable(path);
    const stocks: DatasetProfile = {
      name: 'stocks',
      source: { files: [], format },
      dataFile: path,
      ...profileTable(table),
    };
    const [proposal] = brainstorm({ profile: stocks, maxTasks: 3 });
    expect(proposal).toMatchObject({ target: 'price', taskType: 'forecasting', modality: 'time-series' });
    expect(proposal!.metric.name).toBe('mase');
    expect(proposal!.rationale).toMatch(/in each series' own scale/);
    const files = design({ profile: stocks, proposal: proposal!, round: 0 }).files;
    // 123 months: the last 12 are the test, for each of the 5 symbols
    expect(JSON.parse(files['task.json']!).forecast).toEqual({ time: 'date', series: ['symbol'], horizon: 12 });
    expect(files['description.md']).toMatch(/forecast `price` for the next 12 time steps of\none series per `symbol`/);
  });

  it('Designer: repairs from the failed checks, and gives up when it knows no repair', () => {
    const proposal = proposalFor(penguins, 'Species');
    const first = design({ profile: penguins, proposal, round: 0 });
    const leak = design({
      profile: penguins,
      proposal,
      round: 1,
      previous: { design: first, failed: [{ name: 'split.no_row_leak', passed: false, detail: '' }] },
    });
    expect(configOf(leak.files['prepare.py']!).dedupe).toBe(true);
    const hinted = design({
      profile: penguins,
      proposal,
      round: 1,
      previous: {
        design: first,
        failed: [{ name: 'review.no_answer_hints', passed: false, detail: '', evidence: { columns: ['Island'] } }],
      },
    });
    const hintedConfig = configOf(hinted.files['prepare.py']!);
    expect(hintedConfig.drop).toContain('Island');
    expect(hintedConfig.categorical).not.toContain('Island'); // nor fed to the baseline
    const stuck = design({
      profile: penguins,
      proposal,
      round: 1,
      previous: { design: first, failed: [{ name: 'baseline.beats_trivial', passed: false, detail: '' }] },
    });
    expect(stuck.notes.giveUp).toMatch(/no repair known for: baseline\.beats_trivial/);
  });

  it('Refactorer: moves aliased files into the v1 layout, normalises line ends, completes task.json', () => {
    const out = refactor({
      'baseline.py': 'print(1)\r\n',
      'grade.py': 'x',
      './README.md': '# T',
      'task.json': '{"id":"a"}',
    });
    expect(Object.keys(out).sort()).toEqual(['description.md', 'metric.py', 'solutions/baseline.py', 'task.json']);
    expect(out['solutions/baseline.py']).toBe('print(1)\n');
    expect(JSON.parse(out['task.json']!)).toEqual({ schema: TASK_SCHEMA, id: 'a' });
    // the canonical file wins over an alias
    expect(refactor({ 'metric.py': 'real', 'grade.py': 'alias' })['metric.py']).toBe('real\n');
  });

  describe('Reviewer', () => {
    const manifest = (over: Partial<TaskManifest> = {}): TaskManifest => ({
      schema: TASK_SCHEMA,
      id: 'penguins-species',
      title: 't',
      taskType: 'multiclass-classification',
      modality: 'tabular',
      target: 'Species',
      idColumn: 'id',
      metric: metricSpec('macro-f1'),
      resources: { cpus: 1, memoryMb: 1024, gpu: false, timeLimitS: 60 },
      ...over,
    });
    const proposal: TaskProposal = {
      id: 'penguins-species',
      title: 't',
      target: 'Species',
      taskType: 'multiclass-classification',
      modality: 'tabular',
      metric: metricSpec('macro-f1'),
      rationale: 'r',
    };
    const columns = ['id', 'Species', 'Island', 'Beak Length (mm)'];
    const verdicts = (input: Partial<Parameters<typeof review>[0]>) =>
      Object.fromEntries(
        review({
          manifest: manifest(),
          description: design({ profile: penguins, proposal, round: 0 }).files['description.md']!,
          trainColumns: columns,
          testColumns: columns.filter((c) => c !== 'Species'),
          targetCounts: { Adelie: 120, Gentoo: 100, Chinstrap: 50 },
          profile: penguins,
          ...input,
        }).map((c) => [c.name, c]),
      );

    it('passes a sound task', () => {
      expect(Object.values(verdicts({})).filter((c) => !c.passed)).toEqual([]);
    });

    it('fails each rubric item for its own reason', () => {
      expect(
        verdicts({ description: '# T\n## Overview\nx\n## Data\nSpecies Island Beak Length (mm) id\n## Evaluation\nx' })[
          'review.description_complete'
        ],
      ).toMatchObject({ passed: false, detail: 'description.md lacks: submission format' });
      expect(verdicts({ manifest: manifest({ metric: metricSpec('rmse') }) })['review.metric_fits']).toMatchObject({
        passed: false,
        detail: expect.stringContaining('rmse does not suit multiclass-classification'),
      });
      expect(
        verdicts({ manifest: manifest({ metric: { ...metricSpec('macro-f1'), higherIsBetter: false } }) })[
          'review.metric_fits'
        ]?.detail,
      ).toContain('higher-is-better, but task.json says higherIsBetter=false');
      expect(verdicts({ targetCounts: { Adelie: 500, Gentoo: 3 } })['review.target_meaningful']).toMatchObject({
        passed: false,
        detail: expect.stringContaining('under 1%'),
      });
      const leaky = { ...penguins, leakageSuspects: [{ column: 'Island', target: 'Species', reason: 'purity 0.99' }] };
      expect(verdicts({ profile: leaky })['review.no_answer_hints']).toMatchObject({
        passed: false,
        evidence: { columns: ['Island'] },
      });
    });
  });
});
