import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRolloutService } from '../client/rollouts';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
import { checkpointScript } from './helpers/checkpoint-llm';
import { envService, publishFixture, startGateway } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { type ScriptedLlm, startScriptedLlm } from './helpers/scripted-llm';
import { policyScript } from './helpers/scripted-policy';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..');
/** The Python client's own venv: PyPI packages for the client's tests, never Anvil's Python work. */
const VENV = join(ROOT, '.tools', 'venv-python-client');
const PYTHON = join(VENV, 'bin', 'python');

/** Creates the venv once and (re)installs the client from the repo with its test extras. */
async function ensureVenv(): Promise<void> {
  if (!existsSync(PYTHON)) await exec('python3', ['-m', 'venv', VENV]);
  await exec(PYTHON, ['-m', 'pip', 'install', '-q', '-e', `${join(ROOT, 'clients', 'python')}[test,openenv]`], {
    timeout: 600_000,
  });
  await exec(PYTHON, ['-m', 'pip', 'install', '-q', '--no-deps', 'openenv-core==0.3.0'], { timeout: 600_000 });
}

describe('the Python client (clients/python) and examples/grpo_loop.py over HTTP', () => {
  let t: TestEnv;
  let gateway: { app: FastifyInstance; url: string; token: string };
  const checkpoints: ScriptedLlm[] = [];
  let react: ScriptedLlm;
  let forged: string;

  beforeAll(async () => {
    await ensureVenv();
    for (const level of [0, 1, 2] as const) checkpoints.push(await startScriptedLlm(checkpointScript(level)));
    react = await startScriptedLlm(policyScript());
    t = await createTestEnv({ ANVIL_LLM_ENDPOINTS: 'http://127.0.0.1:*/v1', OPENAI_BASE_URL: checkpoints[0]!.url });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    await publishFixture(t, 'iris-species');
    // A task made by the Forge (heuristic roles) for the OpenEnv facade.
    const forge = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-penguins-${Date.now()}`,
      args: [
        {
          dataset: await exampleDatasetPath('penguins', join(t.config.paths.home, 'examples')),
          name: 'penguins',
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          repairRounds: 1,
        },
      ],
    });
    forged = forge.tasks.find((task) => task.status === 'verified')!.id;
    const rollouts = createRolloutService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: t.config.paths.catalog,
      endpoints: { defaultUrl: t.config.llm.baseUrl, allowed: ['http://127.0.0.1:*/v1'] },
    });
    gateway = await startGateway(envService(t), rollouts);
  }, 900_000);
  afterAll(async () => {
    await gateway?.app.close();
    await t?.close();
    await Promise.all([...checkpoints, react].map((c) => c?.close()));
  });

  it('pytest clients/python/tests passes: models match the OpenAPI document, envs and rollouts work, the GRPO loop reward rises, the ReAct agent plays, the openenv-core client plays a forged task', async () => {
    const run = await exec(PYTHON, ['-m', 'pytest', '-q', '-s', join(ROOT, 'clients', 'python', 'tests')], {
      cwd: ROOT,
      timeout: 1_200_000,
      env: {
        ...process.env,
        ANVIL_URL: gateway.url,
        ANVIL_API_KEY: gateway.token,
        ANVIL_TASK: 'iris-species',
        ANVIL_CHECKPOINTS: checkpoints.map((c) => c.url).join(','),
        ANVIL_REACT_LLM: react.url,
        ANVIL_FORGED_TASK: forged,
      },
    }).catch((err: { stdout?: string; stderr?: string; code?: number }) => err);
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    console.log(output);
    expect(output).toMatch(/\d+ passed/);
    expect(output).not.toMatch(/failed|error/i);
    // Each checkpoint's server played its own iteration's episodes.
    expect(checkpoints.map((c) => c.requests.length > 0)).toEqual([true, true, true]);
    expect(react.requests.length).toBeGreaterThanOrEqual(4);
  }, 1_200_000);
});
