import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalModel, startLocalModel } from '../cli/local-model';
import type { ForgeResult } from '../domain/forge';
import type { SynthResult } from '../domain/synth';
import type { synthesizeTasks } from '../workflows';
import { publishFixture } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { type LlmRecorder, startLlmRecorder } from './helpers/llm-recorder';

const cli = join(__dirname, '..', 'bin', 'anvil.js');
/** a kept-replies file named in a failure message, read back */
const keptReplies = (message: string) => {
  const file = /kept in (\S+\.json)/.exec(message)?.[1];
  expect(file, message).toBeDefined();
  expect(existsSync(file!), file).toBe(true);
  return JSON.parse(readFileSync(file!, 'utf8')) as { role: string; replies: string[] };
};

// SmolLM2-135M on llama-cpp-python (`make llm`), on two CPU threads: a real model that errs, so every
// outcome must be clear and every loop bounded. Replies are capped at 128 tokens and re-asked once; one
// request may take minutes on a loaded machine, hence the long request time limit.
describe('the openai provider against a real small model (SmolLM2-135M, llama-cpp-python)', () => {
  let model: LocalModel;
  let recorder: LlmRecorder;
  let t: TestEnv;
  // bounds, not speed goals: on a loaded 2-core machine one 128-token reply took over a minute
  beforeAll(async () => {
    model = await startLocalModel({ threads: 2 });
    recorder = await startLlmRecorder(model.url);
    t = await createTestEnv({
      ...model.env,
      OPENAI_BASE_URL: recorder.url,
      ANVIL_LLM_MAX_TOKENS: '128',
      ANVIL_LLM_OUTPUT_RETRIES: '1',
      ANVIL_LLM_TIMEOUT_S: '600',
    });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(async () => {
    await t?.close();
    await recorder?.close();
    await model?.stop();
  });

  it(
    '`anvil forge iris --provider openai` ends with a clear outcome per task, within a bounded number of calls',
    async () => {
      const { code, stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [cli, 'forge', 'example:iris', '--provider', 'openai', '--max-tasks', '1', '--repair-rounds', '0', '--json'],
        { env: t.env },
      ).then(
        (r) => ({ code: 0, ...r }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
      expect([0, 1], stderr).toContain(code); // verified or rejected/failed: never bad input or infrastructure
      const out = JSON.parse(stdout) as ForgeResult | { error: { type: string; message: string } };
      if ('error' in out) {
        // the Brainstormer could not propose: the failure names the role and keeps its raw replies
        expect(out.error.type).toMatch(/^(InvalidRoleOutput|PromptTooLong)$/);
        expect(out.error.message).toMatch(/brainstormer/);
        if (out.error.type === 'InvalidRoleOutput') expect(keptReplies(out.error.message).replies).toHaveLength(2);
      } else {
        expect(out.tasks.length).toBeGreaterThan(0);
        for (const task of out.tasks) {
          if (task.status === 'verified') continue;
          expect(task.failedChecks.length, JSON.stringify(task)).toBeGreaterThan(0);
          const crashed = task.failedChecks.find((c) => c.startsWith('forgeTask failed'));
          if (crashed) {
            expect(crashed).toMatch(/the (designer|refactorer|reviewer)'s (output failed its schema|prompt)/);
            if (/kept in/.test(crashed)) expect(keptReplies(crashed).replies.length).toBeGreaterThan(0);
          } else expect(existsSync(join(task.path, 'verification.json')), task.path).toBe(true);
        }
        expect(out.usage.promptTokens).toBeGreaterThan(0);
      }
      const calls = recorder.calls;
      // one probe per dialect tried, then every role in the dialect the probe found (llama.cpp: json_object + schema)
      const probes = calls.filter((c) => c.role === 'probe');
      expect(probes.at(-1)).toMatchObject({ responseFormat: 'json_object', status: 200 });
      expect(calls.filter((c) => c.role !== 'probe').every((c) => c.responseFormat === 'json_object')).toBe(true);
      expect(calls.filter((c) => c.role !== 'probe').every((c) => c.status === 200)).toBe(true);
      // Brainstormer 2, Designer ≤ 4 code runs + 2, Refactorer 2, Reviewer 2 (each: an ask and one re-ask)
      expect(calls.length).toBeLessThanOrEqual(probes.length + 12);
      expect(calls.filter((c) => c.status === 200).every((c) => c.promptTokens > 0 && c.promptTokens <= 8192)).toBe(
        true,
      );
    },
    20 * 60_000,
  );

  it(
    "Synth's openai path on a verified seed ends verified, rejected or failed naming the role",
    async () => {
      const before = recorder.calls.length;
      await publishFixture(t, 'iris-species');
      const outcome = await t.client.workflow
        .execute<typeof synthesizeTasks>('synthesizeTasks', {
          taskQueue: t.controlQueue,
          workflowId: `synth-local-llm-${Date.now()}`,
          args: [
            {
              seedTaskId: 'iris-species',
              catalogDir: t.config.paths.catalog,
              count: 1,
              provider: 'openai',
              repairRounds: 0,
            },
          ],
        })
        .then(
          (result: SynthResult) => ({ result }),
          (err: Error) => ({ error: err }),
        );
      if ('error' in outcome) {
        const cause = (outcome.error.cause as Error | undefined)?.cause as Error | undefined;
        const message = cause?.message ?? outcome.error.message;
        expect(message).toMatch(/the (strategist|developer|mlops|writer)'s (output failed its schema|prompt)/);
        if (/kept in/.test(message)) expect(keptReplies(message).replies.length).toBeGreaterThan(0);
      } else {
        for (const task of outcome.result.tasks)
          if (task.status !== 'verified') expect(task.failedChecks.length, JSON.stringify(task)).toBeGreaterThan(0);
      }
      const calls = recorder.calls.slice(before);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.length).toBeLessThanOrEqual(8); // Strategist, Developer, MLOps, Writer: an ask and one re-ask each
      expect(new Set(calls.map((c) => c.role))).not.toContain('unknown');
    },
    15 * 60_000,
  );
});
