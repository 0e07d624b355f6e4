import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FidelityReport } from '../domain/fidelity';
import type { ForgeResult } from '../domain/forge';
import { drawVariant, FIDELITY_LADDER } from '../domain/policy-space';
import type { RolloutResult } from '../domain/rollouts';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
import { trajectorySteps } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);

/** The JSON config a heuristic script carries on its first line. */
function configOf(code: string): Record<string, unknown> {
  const literal = /^import json; CONFIG = json\.loads\((".*")\)/.exec(code)?.[1];
  return literal ? (JSON.parse(JSON.parse(literal) as string) as Record<string, unknown>) : {};
}

/**
 * The stochastic heuristic policy and the fidelity report on tasks the Forge made from a real
 * dataset: a group of 8 samples spreads its rewards, and the fidelity ladder ranks in its order.
 */
describe('the heuristic policy on forged tasks: spread rewards, and a fidelity report', () => {
  let t: TestEnv;
  let tasks: string[];
  const anvil = async (args: string[]) => {
    const bin = join(__dirname, '..', 'bin', 'anvil.js');
    const { stdout } = await exec(process.execPath, [bin, ...args], { env: t.env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  };

  beforeAll(async () => {
    t = await createTestEnv({ ANVIL_SESSION_CONCURRENCY: '16' });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    // Two datasets, one task each (a classification and a regression): what each was collected to predict.
    tasks = [];
    for (const name of ['penguins', 'boston-housing']) {
      const forged = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
        taskQueue: t.controlQueue,
        workflowId: `forge-${name}-${Date.now()}`,
        args: [
          {
            dataset: await exampleDatasetPath(name, join(t.config.paths.home, 'examples')),
            name,
            catalogDir: t.config.paths.catalog,
            maxTasks: 1,
            repairRounds: 1,
            concurrency: 1,
          },
        ],
      });
      tasks.push(...(forged as ForgeResult).tasks.filter((x) => x.status === 'verified').map((x) => x.id));
    }
    expect(tasks.length).toBeGreaterThanOrEqual(2);
  }, 900_000);
  afterAll(async () => t?.close());

  it('rollout --policy heuristic --samples 8: each sample plays its seeded variant, and the groups spread', async () => {
    const args = ['rollout', ...tasks.flatMap((x) => ['--task', x]), '--policy', 'heuristic', '--samples', '8'];
    const result = JSON.parse((await anvil([...args, '--max-steps', '8', '--json'])).trim().split('\n').at(-1)!);
    const { episodes, groups } = result as RolloutResult;
    expect(episodes.map((e) => e.status)).toEqual(Array(tasks.length * 8).fill('completed'));
    let variants = 0;
    for (const e of episodes) {
      const executed = trajectorySteps(e.trajectory!).find((s) => s.action === 'execute_code');
      const { family, params, seed } = configOf((executed?.params as { code?: string } | undefined)?.code ?? '');
      if (family === undefined) continue; // the variant did not validate: the baseline ran after it
      const drawn = drawVariant(0, e.sample); // the CLI's default seed
      expect({ family, params, seed }).toEqual({ family: drawn.family, params: drawn.params, seed: drawn.seed });
      variants += 1;
    }
    expect(variants).toBeGreaterThanOrEqual(episodes.length * 0.8);
    const spread = groups.filter((g) => g.std > 0);
    expect(spread.length / groups.length, JSON.stringify(groups)).toBeGreaterThanOrEqual(0.8);
    for (const g of spread) expect(g.advantages.some((a) => Math.abs(a) > 0.1)).toBe(true);
  }, 1_200_000);

  it('anvil fidelity: the ladder ranks by strength on forged tasks; --plot writes the chart', async () => {
    const plot = join(t.config.paths.home, 'fidelity.svg');
    const out = await anvil(['fidelity', '--tasks', tasks.slice(0, 2).join(','), '--json', '--plot', plot]);
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as FidelityReport;
    expect(report.policies).toEqual(FIDELITY_LADDER.map((r) => r.name));
    expect(report.tasks.map((x) => x.set)).toEqual(['forged', 'forged']);
    for (const task of report.tasks) expect(task.scores.filter((s) => s !== undefined).length).toBe(5);
    expect(report.sets[0]!.meanRho, JSON.stringify(report.tasks)).toBeGreaterThanOrEqual(0.8);
    expect(existsSync(plot)).toBe(true);
    expect(readFileSync(plot, 'utf8')).toMatch(/^<svg[\s\S]*forged \(2\)/);
  }, 1_200_000);
});
