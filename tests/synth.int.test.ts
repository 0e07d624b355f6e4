import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromTemplate } from '../agents/heuristic/designer';
import { type GeneratorConfig, develop } from '../agents/heuristic/synth/developer';
import { write } from '../agents/heuristic/synth/writer';
import type { SynthDesign } from '../agents/synth-roles';
import { parseLeaderboards } from '../package/leaderboard';
import { better } from '../domain/metrics';
import { medalThresholds } from '../domain/rewards';
import {
  deriveThresholds,
  extractDna,
  ruleLeaks,
  type SeedFacts,
  SYNTH_CHECKS,
  type SynthResult,
} from '../domain/synth';
import type { sandboxRun, synthesizeTasks } from '../workflows';
import { publishFixture } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import {
  type ChatRequest,
  heuristicAnswer,
  roleOf,
  type ScriptedLlm,
  type ScriptedReply,
  sentTo,
  startScriptedLlm,
} from './helpers/scripted-llm';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').length - 1;

describe('synthesizeTasks on three verified seeds', () => {
  let t: TestEnv;
  let llm: ScriptedLlm;
  let behaviour: (request: ChatRequest, index: number) => ScriptedReply = heuristicAnswer;
  const results: Record<string, SynthResult> = {};
  beforeAll(async () => {
    llm = await startScriptedLlm((request, index) => behaviour(request, index));
    t = await createTestEnv({
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'scripted-key',
      ANVIL_MODEL: 'scripted-model',
      ANVIL_LLM_RESPONSE_FORMAT: 'json_schema', // the scripted server has no probe answer
    });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    await Promise.all(['iris-species', 'penguins-sex', 'boston-medv'].map((seed) => publishFixture(t, seed)));
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
    JSON.parse(
      readFileSync(
        join(t.config.paths.artifacts, 'synth', result.workflowId, id, `round-${round}`, 'design.json'),
        'utf8',
      ),
    );

  it.concurrent.each([
    ['iris-species', 'multiclass-classification'],
    ['penguins-sex', 'binary-classification'],
    ['boston-medv', 'regression'],
  ])(
    '%s (%s) yields verified synthetic tasks with every synth check passing',
    async (seed, taskType) => {
      const result = await synthesize(seed);
      results[seed] = result;
      expect(
        result.tasks.map((x) => x.status),
        JSON.stringify(result.tasks.map((x) => [x.id, x.failedChecks])),
      ).toEqual(['verified', 'verified']);
      expect(result.tasks.map((x) => x.id)).toEqual([`${seed}-synth-1`, `${seed}-synth-2`]);
      for (const task of result.tasks) {
        expect(task.path).toBe(join(t.config.paths.catalog, task.id));
        const manifest = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8'));
        expect(manifest).toMatchObject({
          taskType,
          synthetic: { seedTaskId: seed, rows: task.rows, generator: 'generator.py' },
        });
        const train = csvRows(join(task.path, 'public', 'train.csv'));
        expect(train).toBe(task.rows.train);
        expect(train).toBeGreaterThanOrEqual(50);
        expect(train).toBeLessThanOrEqual(200);

        const report = JSON.parse(readFileSync(join(task.path, 'verification.json'), 'utf8'));
        expect(report.status).toBe('verified');
        expect(report.checks.filter((c: { passed: boolean }) => !c.passed)).toEqual([]);
        expect(
          report.checks
            .filter((c: { name: string }) => c.name.startsWith('synth.'))
            .map((c: { name: string }) => c.name),
        ).toEqual([...SYNTH_CHECKS]);

        // Strictly ordered in the metric's direction, gold beating the sample submission.
        const { gold, silver, bronze, median } = task.thresholds!;
        for (const [a, b] of [
          [gold, silver],
          [silver, bronze],
          [bronze, median],
        ] as const)
          expect(better(manifest.metric, a, b), `${a} vs ${b}`).toBe(true);
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
        const prose = description
          .split('\n')
          .filter((line) => !line.startsWith('|'))
          .join('\n');
        for (const feature of rule.features) expect(prose).not.toMatch(new RegExp(`\\b${feature}\\b`));
        for (const n of rule.numbers) expect(description).not.toContain(Math.abs(n).toFixed(2));
      }
    },
    900_000,
  );

  it('the generator is deterministic: two more runs write the published raw/ again, byte for byte', async () => {
    const task = results['boston-medv']!.tasks[0]!;
    const code = readFileSync(join(task.path, 'generator.py'), 'utf8');
    const run = () =>
      t.client.workflow.execute<typeof sandboxRun>('sandboxRun', {
        taskQueue: t.controlQueue,
        workflowId: `synth-generator-${Date.now()}-${Math.random()}`,
        args: [{ code }],
      });
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
          const design = develop({
            dna: input.dna as never,
            taskId: input.taskId as string,
            rows: input.rows as never,
            round: 0,
          });
          if (input.round !== 0) return { content: JSON.stringify(design) };
          // Round 0: noise drowns the rule, so no model can learn it.
          const config = { ...(design.notes.config as GeneratorConfig), noise: 1000 };
          return {
            content: JSON.stringify({
              ...design,
              files: { ...design.files, 'generator.py': fromTemplate('generator.py', config) },
              notes: { config },
            }),
          };
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
    const round0 = JSON.parse(
      readFileSync(
        join(t.config.paths.artifacts, 'synth', result.workflowId, task!.id, 'round-0', 'verification.json'),
        'utf8',
      ),
    );
    expect(round0.checks.find((c: { name: string }) => c.name === 'synth.learnable')).toMatchObject({ passed: false });
    const requests = llm.requests.slice(first);
    expect(new Set(requests.map(roleOf))).toEqual(new Set(['strategist', 'developer', 'writer', 'mlops', 'reviewer']));
    const repairAsk = requests.find((r) => roleOf(r) === 'developer' && sentTo(r).round === 1)!;
    expect((sentTo(repairAsk).failedChecks as { name: string }[]).map((c) => c.name)).toContain('synth.learnable');
    // The Writer was never shown the rule.
    for (const r of requests.filter((x) => roleOf(x) === 'writer'))
      expect(JSON.stringify(sentTo(r))).not.toMatch(/rule|generator/);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
  }, 600_000);
});
