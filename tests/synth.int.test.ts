import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromTemplate } from '../agents/heuristic/designer';
import { type GeneratorConfig, develop } from '../agents/heuristic/synth/developer';
import { write } from '../agents/heuristic/synth/writer';
import type { SynthDesign } from '../agents/synth-roles';
import { parseLeaderboards } from '../activities/env/task-info';
import { better } from '../domain/metrics';
import { medalThresholds } from '../domain/rewards';
import { deriveThresholds, extractDna, type HiddenRule, ruleLeaks, type SeedFacts, SYNTH_CHECKS, type SynthResult, synthChecks } from '../domain/synth';
import type { sandboxRun, synthesizeTasks } from '../workflows';
import { publishFixture } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { type ChatRequest, heuristicAnswer, roleOf, type ScriptedLlm, type ScriptedReply, sentTo, startScriptedLlm } from './helpers/scripted-llm';

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
    { name: 'petal_length', kind: 'numeric', missing: 0.1, distinct: 40, stats: { min: 1, max: 6.9, mean: 3.7, std: 1.7 } },
    { name: 'colour', kind: 'categorical', missing: 0, distinct: 3, top: [{ value: 'red', count: 60 }, { value: 'blue', count: 40 }] },
    { name: 'site', kind: 'constant', missing: 0, distinct: 1 },
    { name: 'species', kind: 'categorical', missing: 0, distinct: 3, top: [{ value: 'setosa', count: 20 }, { value: 'virginica', count: 50 }, { value: 'versicolor', count: 30 }] },
  ],
};

describe('Synth, pure parts', () => {
  it('extracts the DNA: features by kind without id, target or constant columns; classes by share', () => {
    const dna = extractDna(irisLike);
    expect(dna.features.map((f) => [f.name, f.kind])).toEqual([['petal_length', 'numeric'], ['colour', 'categorical']]);
    expect(dna.features[0]).toMatchObject({ missing: 0.1, stats: { mean: 3.7 } });
    expect(dna.features[1]).toMatchObject({ levels: 3 });
    expect(dna.label!.classes).toEqual([{ value: 'virginica', share: 0.5 }, { value: 'versicolor', share: 0.3 }, { value: 'setosa', share: 0.2 }]);
    expect(dna).toMatchObject({ seedTaskId: 'iris-species', taskType: 'multiclass-classification', modality: 'tabular', trainRows: 100 });
    expect(dna.targetStats).toBeUndefined();
  });

  it('derives thresholds strictly ordered in either direction, between the best baseline and the oracle', () => {
    const up = deriveThresholds({ trivial: 0.5, baseline: 0.7, references: { 'reference-linear.py': 0.6, 'reference-nearest.py': 0.65 }, oracle: 0.9 }, { name: 'accuracy', higherIsBetter: true })!;
    expect(up).toEqual({ gold: 0.85, silver: 0.8, bronze: 0.75, median: 0.65 });
    const down = deriveThresholds({ trivial: 9, baseline: 5, references: { 'reference-linear.py': 6 }, oracle: 1 }, { name: 'rmse', higherIsBetter: false })!;
    expect(down).toEqual({ gold: 2, silver: 3, bronze: 4, median: 5.5 });
    expect(deriveThresholds({ baseline: 1, references: {} }, { name: 'rmse', higherIsBetter: false })).toBeUndefined();
  });

  it('fails thresholds_ordered and not_trivial when a baseline already reaches the oracle', () => {
    const scores = { trivial: 0.5, baseline: 0.9, references: {}, oracle: 0.9 };
    const checks = synthChecks({
      dna: extractDna(irisLike),
      manifest: { taskType: 'multiclass-classification', modality: 'tabular', metric: { name: 'accuracy', higherIsBetter: true } },
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
    expect(ruleLeaks(`${table}Rows with large f02 tend to score high.`, rule)).toEqual(['singles out the rule\'s feature f02 outside the data dictionary']);
    expect(ruleLeaks(`${table}The weight is 1.37.`, rule)).toEqual(['quotes the rule\'s number 1.37']);
    expect(ruleLeaks(`${table}It ranges to 1.375.`, rule)).toEqual([]); // another number, not the weight
    expect(ruleLeaks(`${table}Look for ZORVEX.`, rule)).toEqual(['names the keyword "zorvex"']);
    // The heuristic Writer never sees the rule, and does not leak it.
    const dna = extractDna(irisLike);
    const design = develop({ dna, taskId: 'iris-species-synth-1', rows: { train: 50, test: 50 }, round: 0 });
    const { description } = write({ taskId: 'iris-species-synth-1', taskType: dna.taskType, metric: dna.metric, schema: design.schema, rows: { train: 50, test: 50 } });
    expect(design.rule.features.length).toBeGreaterThan(0);
    expect(ruleLeaks(description, design.rule)).toEqual([]);
    for (const column of design.schema.columns) expect(description).toContain(column.name);
  });

  it('a threshold board makes medalThresholds return exactly the MLOps thresholds', () => {
    const csv = 'entry,score,kind\ntrivial,12,reference\nbaseline,6,reference\ngold,2,threshold\nsilver,3,threshold\nbronze,4,threshold\nmedian,5.5,threshold\n';
    const boards = parseLeaderboards(csv);
    expect(boards.map((b) => b.name)).toEqual(['thresholds']);
    expect(medalThresholds(boards[0]!.scores, { higherIsBetter: false })).toEqual({ gold: 2, silver: 3, bronze: 4, median: 5.5 });
    const up = parseLeaderboards('entry,score,kind\ntrivial,0.5,reference\ngold,0.9,threshold\nsilver,0.8,threshold\nbronze,0.7,threshold\nmedian,0.6,threshold\n');
    expect(medalThresholds(up[0]!.scores, { higherIsBetter: true })).toEqual({ gold: 0.9, silver: 0.8, bronze: 0.7, median: 0.6 });
    // Without threshold rows, the reference board as before.
    expect(parseLeaderboards('entry,score,kind\ntrivial,0.5,reference\nbaseline,0.8,reference\n')).toEqual([{ name: 'reference', scores: [0.5, 0.8] }]);
  });
});

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').length - 1;

describe('synthesizeTasks on three verified seeds', () => {
  let t: TestEnv;
  let llm: ScriptedLlm;
  let behaviour: (request: ChatRequest, index: number) => ScriptedReply = heuristicAnswer;
  const results: Record<string, SynthResult> = {};
  beforeAll(async () => {
    llm = await startScriptedLlm((request, index) => behaviour(request, index));
    t = await createTestEnv({ OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: 'scripted-key', ANVIL_MODEL: 'scripted-model' });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    for (const seed of ['iris-species', 'penguins-sex', 'boston-medv']) await publishFixture(t, seed);
  });
  afterAll(async () => {
    await t?.close();
    await llm?.close();
  });

  const synthesize = (seedTaskId: string, extra: Partial<Parameters<typeof synthesizeTasks>[0]> = {}) =>
    t.client.workflow.execute<typeof synthesizeTasks>('synthesizeTasks', {
      taskQueue: t.controlQueue,
      workflowId: `synth-${seedTaskId}-${Date.now()}`,
      args: [{ seedTaskId, catalogDir: t.config.paths.catalog, count: 2, ...extra }],
    });
  const designOf = (result: SynthResult, id: string, round: number): Omit<SynthDesign, 'files'> =>
    JSON.parse(readFileSync(join(t.config.paths.artifacts, 'synth', result.workflowId, id, `round-${round}`, 'design.json'), 'utf8'));

  it.each([
    ['iris-species', 'multiclass-classification'],
    ['penguins-sex', 'binary-classification'],
    ['boston-medv', 'regression'],
  ])('%s (%s) yields verified synthetic tasks with every synth check passing', async (seed, taskType) => {
    const result = await synthesize(seed);
    results[seed] = result;
    expect(result.tasks.map((x) => x.status), JSON.stringify(result.tasks.map((x) => [x.id, x.failedChecks]))).toEqual(['verified', 'verified']);
    expect(result.tasks.map((x) => x.id)).toEqual([`${seed}-synth-1`, `${seed}-synth-2`]);
    for (const task of result.tasks) {
      expect(task.path).toBe(join(t.config.paths.catalog, task.id));
      const manifest = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8'));
      expect(manifest).toMatchObject({ taskType, synthetic: { seedTaskId: seed, rows: task.rows, generator: 'generator.py' } });
      const train = csvRows(join(task.path, 'public', 'train.csv'));
      expect(train).toBe(task.rows.train);
      expect(train).toBeGreaterThanOrEqual(50);
      expect(train).toBeLessThanOrEqual(200);

      const report = JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8'));
      expect(report.status).toBe('verified');
      expect(report.checks.filter((c: { passed: boolean }) => !c.passed)).toEqual([]);
      expect(report.checks.filter((c: { name: string }) => c.name.startsWith('synth.')).map((c: { name: string }) => c.name)).toEqual([...SYNTH_CHECKS]);

      // Strictly ordered in the metric's direction, gold beating the sample submission.
      const { gold, silver, bronze, median } = task.thresholds!;
      for (const [a, b] of [[gold, silver], [silver, bronze], [bronze, median]] as const) expect(better(manifest.metric, a, b), `${a} vs ${b}`).toBe(true);
      expect(better(manifest.metric, gold, task.scores.trivial!)).toBe(true);
      expect(report.synth.thresholds).toEqual(task.thresholds);
      // The Dojo's medals use them: the leaderboard's board reproduces them exactly.
      const [board] = parseLeaderboards(readFileSync(join(task.path, 'leaderboard.csv'), 'utf8'));
      expect(medalThresholds(board!.scores, manifest.metric)).toEqual(task.thresholds);

      // No leak: the description names no rule number or keyword, and the rule's features only in
      // the data dictionary, like every other feature.
      const description = readFileSync(join(task.path, 'description.md'), 'utf8');
      const { rule } = designOf(result, task.id, task.rounds - 1);
      expect(ruleLeaks(description, rule)).toEqual([]);
      const prose = description.split('\n').filter((line) => !line.startsWith('|')).join('\n');
      for (const feature of rule.features) expect(prose).not.toMatch(new RegExp(`\\b${feature}\\b`));
      for (const n of rule.numbers) expect(description).not.toContain(Math.abs(n).toFixed(2));
    }
  }, 900_000);

  it('the generator is deterministic: two more runs write the published raw/ again, byte for byte', async () => {
    const task = results['boston-medv']!.tasks[0]!;
    const code = readFileSync(join(task.path, 'generator.py'), 'utf8');
    const run = () => t.client.workflow.execute<typeof sandboxRun>('sandboxRun', { taskQueue: t.controlQueue, workflowId: `synth-generator-${Date.now()}-${Math.random()}`, args: [{ code }] });
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const published = sha(join(task.path, 'raw', 'data.csv'));
    expect(sha(join(a.workspaceDir, 'raw', 'data.csv'))).toBe(published);
    expect(sha(join(b.workspaceDir, 'raw', 'data.csv'))).toBe(published);
  });

  it('through the openai provider, a repair round fixes a first draft that is not learnable', async () => {
    const first = llm.requests.length;
    behaviour = (request) => {
      const input = sentTo(request);
      switch (roleOf(request)) {
        case 'strategist':
          return { content: JSON.stringify(extractDna(input.seed as SeedFacts)) };
        case 'developer': {
          const design = develop({ dna: input.dna as never, taskId: input.taskId as string, rows: input.rows as never, round: 0 });
          if (input.round !== 0) return { content: JSON.stringify(design) };
          // Round 0: noise drowns the rule, so no model can learn it.
          const config = { ...(design.notes.config as GeneratorConfig), noise: 1000 };
          return { content: JSON.stringify({ ...design, files: { ...design.files, 'generator.py': fromTemplate('generator.py', config) }, notes: { config } }) };
        }
        case 'mlops':
          return { content: JSON.stringify(deriveThresholds(input.scores as never, input.metric as never)) };
        case 'writer':
          return { content: JSON.stringify(write(input as never)) };
        default:
          return heuristicAnswer(request);
      }
    };
    const result = await synthesize('penguins-sex', { count: 1, provider: 'openai', repairRounds: 2 });
    const [task] = result.tasks;
    expect(task, JSON.stringify(task)).toMatchObject({ status: 'verified', rounds: 2 });
    const round0 = JSON.parse(readFileSync(join(t.config.paths.artifacts, 'synth', result.workflowId, task!.id, 'round-0', 'verification.json'), 'utf8'));
    expect(round0.checks.find((c: { name: string }) => c.name === 'synth.learnable')).toMatchObject({ passed: false });
    const requests = llm.requests.slice(first);
    expect(new Set(requests.map(roleOf))).toEqual(new Set(['strategist', 'developer', 'writer', 'mlops', 'reviewer']));
    const repairAsk = requests.find((r) => roleOf(r) === 'developer' && sentTo(r).round === 1)!;
    expect((sentTo(repairAsk).failedChecks as { name: string }[]).map((c) => c.name)).toContain('synth.learnable');
    // The Writer was never shown the rule.
    for (const r of requests.filter((x) => roleOf(x) === 'writer')) expect(JSON.stringify(sentTo(r))).not.toMatch(/rule|generator/);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
  }, 600_000);
});
