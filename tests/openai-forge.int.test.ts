import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeResult } from '../domain/forge';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
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

/** What the scripted model does; each test sets its own. */
let behaviour: (request: ChatRequest, index: number) => ScriptedReply = heuristicAnswer;

describe('forging through the openai provider, against a scripted OpenAI-compatible endpoint', () => {
  let llm: ScriptedLlm;
  let t: TestEnv;
  beforeAll(async () => {
    llm = await startScriptedLlm((request, index) => behaviour(request, index));
    t = await createTestEnv({
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'scripted-key',
      ANVIL_MODEL: 'scripted-model',
      ANVIL_LLM_RESPONSE_FORMAT: 'json_schema', // the scripted server has no probe answer
      ANVIL_MODEL_REVIEWER: 'scripted-reviewer',
      ANVIL_LLM_PRICE_IN: '1',
      ANVIL_LLM_PRICE_OUT: '2',
    });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(async () => {
    await t?.close();
    await llm?.close();
  });

  it('`anvil forge --provider openai` produces verified tasks, with tool runs, a 429 retried, and usage in provenance', async () => {
    const first = llm.requests.length;
    let limited = false;
    behaviour = (request) => {
      if (!limited) {
        limited = true; // the very first call is rate limited: Temporal retries it
        return { status: 429, headers: { 'retry-after': '1' } };
      }
      const designerFirstAsk = roleOf(request) === 'designer' && !request.messages.some((m) => m.role === 'tool');
      if (designerFirstAsk && request.tools?.length) {
        return {
          toolCalls: [
            {
              id: 'call_shape',
              name: 'run_python',
              arguments: JSON.stringify({ code: "import pandas as pd\nprint(pd.read_csv('/data/data.csv').shape)" }),
            },
          ],
        };
      }
      return heuristicAnswer(request);
    };
    const cli = join(__dirname, '..', 'bin', 'anvil.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'forge', 'example:penguins', '--provider', 'openai', '--max-tasks', '2', '--json'],
      { env: t.env },
    );
    const result = JSON.parse(stdout) as ForgeResult;
    const verified = result.tasks.filter((task) => task.status === 'verified');
    // Penguins exist to tell the species apart; its measurements, island and sex are the inputs.
    expect(
      verified.map((task) => JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8')).target),
      JSON.stringify(result.tasks),
    ).toEqual(['Species']);

    const requests = llm.requests.slice(first);
    expect(new Set(requests.map(roleOf))).toEqual(new Set(['brainstormer', 'designer', 'refactorer', 'reviewer']));
    expect(requests.filter((r) => roleOf(r) === 'brainstormer')).toHaveLength(2); // the 429, then the answer
    expect(requests.filter((r) => roleOf(r) === 'reviewer').every((r) => r.model === 'scripted-reviewer')).toBe(true);
    expect(
      requests
        .filter((r) => roleOf(r) === 'designer')
        .every((r) => r.model === 'scripted-model' && r.response_format?.type === 'json_schema'),
    ).toBe(true);
    expect(requests.find((r) => roleOf(r) === 'designer')!.tools!.map((tool) => tool.function.name)).toEqual([
      'run_python',
    ]);
    // The Designer's code ran in the sandbox on the real data, and the model saw its output.
    const toolReplies = requests.flatMap((r) => r.messages.filter((m) => m.role === 'tool'));
    expect(toolReplies.length).toBeGreaterThanOrEqual(1);
    expect(toolReplies[0]!.content).toMatch(/^exit 0\n--- stdout ---\n\(344, 7\)/);

    expect(result.usage.promptTokens).toBe(100 * (requests.length - 1)); // every answered request counted once
    expect(result.usage.costUsd).toBeCloseTo(
      (result.usage.promptTokens * 1 + result.usage.completionTokens * 2) / 1e6,
      9,
    );
    for (const task of verified) {
      const manifest = JSON.parse(readFileSync(join(task.path, 'task.json'), 'utf8'));
      expect(manifest.provenance).toMatchObject({
        provider: 'openai',
        model: 'scripted-model',
        usage: { promptTokens: expect.any(Number) },
      });
      expect(manifest.provenance.usage.promptTokens).toBeGreaterThan(0);
      expect(manifest.provenance.promptsHash).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('catches a bad design (a leaky split) in verification and repairs it in the next round', async () => {
    const first = llm.requests.length;
    behaviour = (request) => {
      const reply = heuristicAnswer(request);
      if (roleOf(request) !== 'designer' || sentTo(request).round !== 0) return reply;
      // Round 0: a split that also puts every test row into train.
      const design = JSON.parse(reply.content!);
      design.files['prepare.py'] = design.files['prepare.py'].replace(
        '    public.mkdir(',
        '    train = pd.concat([train, test])  # the leak\n    public.mkdir(',
      );
      return { content: JSON.stringify(design) };
    };
    const result = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-openai-repair-${Date.now()}`,
      args: [
        {
          dataset: await exampleDatasetPath('iris', join(t.config.paths.home, 'examples')),
          name: 'iris',
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          provider: 'openai',
          repairRounds: 2,
        },
      ],
    });
    const [task] = result.tasks;
    expect(task).toMatchObject({ status: 'verified', rounds: 2 });

    const drafts = join(t.config.paths.artifacts, 'forge', result.workflowId, task!.id);
    const round0 = JSON.parse(readFileSync(join(drafts, 'round-0', 'verification.json'), 'utf8'));
    expect(round0.checks.find((c: { name: string }) => c.name === 'split.no_row_leak')).toMatchObject({
      passed: false,
    });
    expect(readdirSync(drafts)).toEqual(expect.arrayContaining(['round-0', 'round-1']));
    // The second design request carried the failed check and its evidence back to the model.
    const repairAsk = llm.requests.slice(first).find((r) => roleOf(r) === 'designer' && sentTo(r).round === 1)!;
    expect((sentTo(repairAsk).failedChecks as { name: string }[]).map((c) => c.name)).toContain('split.no_row_leak');
  });

  it('stops offering the tool once the Designer spent its code-run budget, and takes its answer', async () => {
    const first = llm.requests.length;
    let call = 0;
    behaviour = (request) =>
      roleOf(request) === 'designer' && request.tools?.length
        ? { toolCalls: [{ id: `call_${call++}`, name: 'run_python', arguments: JSON.stringify({ code: 'print(1)' }) }] }
        : heuristicAnswer(request);
    const result = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-openai-budget-${Date.now()}`,
      args: [
        {
          dataset: await exampleDatasetPath('iris', join(t.config.paths.home, 'examples')),
          name: 'iris',
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          provider: 'openai',
          repairRounds: 0,
          designerToolSteps: 2,
        },
      ],
    });
    expect(result.tasks[0]!.status).toBe('verified');
    const designer = llm.requests.slice(first).filter((r) => roleOf(r) === 'designer');
    // two asks with the tool (each answered by a code run), then one without, which must answer
    expect(designer.map((r) => (r.tools?.length ? 'tools' : 'answer'))).toEqual(['tools', 'tools', 'answer']);
    expect(designer[2]!.messages.filter((m) => m.role === 'tool').map((m) => m.content?.split('\n')[0])).toEqual([
      'exit 0',
      'exit 0',
    ]);
  });
});
