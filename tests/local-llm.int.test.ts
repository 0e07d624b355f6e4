import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalModel, startLocalModel } from '../cli/local-model';
import { exportRollout } from '../cli/rollout-export';
import { createRolloutService } from '../client/rollouts';
import type { ForgeResult } from '../domain/forge';
import type { EpisodeRow } from '../domain/rollout-export';
import type { EpisodeOutcome } from '../domain/rollouts';
import type { SynthResult } from '../domain/synth';
import { type TranscriptAttempt, type TranscriptTurn, transcriptTurnFile } from '../domain/transcript';
import type { episode, synthesizeTasks } from '../workflows';
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
/** turn `n` of an episode's transcript */
const turnOf = (dir: string | undefined, n: number) => {
  expect(dir).toBeDefined();
  return JSON.parse(readFileSync(join(dir!, transcriptTurnFile(n)), 'utf8')) as TranscriptTurn;
};
/** a reply as the server counted it: tokens in and out, and one finite log-prob ≤ 0 per generated token */
const expectRealTokens = (attempt: TranscriptAttempt) => {
  expect(attempt.promptTokens).toBeGreaterThan(0);
  expect(attempt.completionTokens).toBeGreaterThan(0);
  expect(attempt.tokens?.logprobs, JSON.stringify(attempt)).toHaveLength(attempt.completionTokens!);
  expect(attempt.tokens!.tokens).toHaveLength(attempt.completionTokens!);
  expect(attempt.tokens!.logprobs.every((p) => Number.isFinite(p) && p <= 0)).toBe(true);
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
    await publishFixture(t, 'iris-species'); // Synth's seed and the Dojo's task
  }, 300_000);
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

  it(
    'a Dojo episode and a 4-sample rollout with the openai policy: real tokens and log-probs, re-asks kept, seeds vary replies',
    async () => {
      const before = recorder.calls.length;
      // The Dojo episode under a deliberately tight limit: 6 tokens never hold a whole tool call, so every
      // reply is cut off, refused, re-asked once (ANVIL_LLM_OUTPUT_RETRIES=1), and the episode fails clearly.
      const tight: EpisodeOutcome = await t.client.workflow.execute<typeof episode>('episode', {
        taskQueue: t.controlQueue,
        workflowId: `episode-local-llm-${Date.now()}`,
        args: [
          {
            task: 'iris-species',
            sample: 0,
            policy: { kind: 'openai', temperature: 0, maxTokens: 6, logprobs: true },
            maxSteps: 1,
            rewardMode: 'position',
            catalogDir: t.config.paths.catalog,
          },
        ],
      });
      expect(tight).toMatchObject({ status: 'failed', steps: 0 });
      // an ask and one re-ask, and no more: InvalidPolicyOutput is not retried by Temporal
      expect(recorder.calls.slice(before).filter((c) => c.role === 'policy')).toHaveLength(2);
      expect(tight.error).toMatch(/the model's tool calls were invalid 2 times \(last: your reply was cut off/);
      const refused = turnOf(tight.transcript, 0);
      expect(refused.action).toBeUndefined(); // every reply refused
      expect(refused.attempts).toHaveLength(2);
      for (const attempt of refused.attempts) {
        expect(attempt).toMatchObject({ finishReason: 'length', completionTokens: 6 });
        expect(attempt.rejected).toMatch(/cut off at the token limit/);
        expectRealTokens(attempt);
      }

      // A 4-sample rollout, two steps each: sample k is sent seed 7 + k, and the replies differ. A second turn
      // sends the first call back as JSON text (llama-cpp-python refuses a null assistant content with a 500).
      const rollouts = createRolloutService({
        client: t.client,
        controlQueue: t.controlQueue,
        catalogDir: t.config.paths.catalog,
        endpoints: { defaultUrl: t.config.llm.baseUrl, allowed: [] },
      });
      const result = await rollouts.run({
        tasks: ['iris-species'],
        samplesPerTask: 4,
        maxSteps: 2,
        policy: { kind: 'openai', temperature: 1, seed: 7, maxTokens: 48, logprobs: true },
      });
      expect(result.episodes).toHaveLength(4);
      const firsts = result.episodes.map((e) => {
        expect(['completed', 'failed'], JSON.stringify(e)).toContain(e.status);
        expect(e.error ?? '').not.toMatch(/\b500\b|validation error/); // a failure is the model's, never a refused request
        const turn = turnOf(e.transcript, 0);
        expect(turn.sampling).toMatchObject({ temperature: 1, seed: 7 + e.sample, max_tokens: 48, logprobs: true });
        turn.attempts.forEach(expectRealTokens);
        return turn.attempts[0]!;
      });
      expect(new Set(firsts.map((a) => JSON.stringify(a.tokens!.tokens))).size).toBeGreaterThan(1);

      // The export carries the server's token counts and log-probs per turn, and refused replies with why.
      const out = mkdtempSync(join(tmpdir(), 'anvil-local-llm-export-'));
      await exportRollout(result, out);
      const rows = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as EpisodeRow);
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        expect(row.prompt_tokens).toBeGreaterThan(0);
        expect(row.completion_tokens).toBeGreaterThan(0);
        for (const turn of row.turns) {
          expect(turn.logprobs).toHaveLength(turn.completion_tokens!);
          for (const r of turn.rejected) expect(r.reason.length).toBeGreaterThan(0);
        }
      }

      // The policy found the server's tool dialect by one probe: llama.cpp answers it in prose, so every
      // policy call asks for one JSON call in its JSON dialect (json_object + schema), without `tools`.
      const calls = recorder.calls.slice(before);
      const toolProbes = calls.filter((c) => c.role === 'probe' && c.request.tool_choice === 'required');
      expect(toolProbes).toHaveLength(1);
      expect(toolProbes[0]!.reply).not.toMatch(/"function"/);
      const policyCalls = calls.filter((c) => c.role === 'policy');
      expect(policyCalls.length).toBeGreaterThanOrEqual(2 + 4);
      for (const c of policyCalls) {
        expect(c).toMatchObject({ status: 200, responseFormat: 'json_object' });
        expect(c.request.tools).toBeUndefined();
        expect(c.promptTokens).toBeLessThanOrEqual(8192 - 48);
      }
    },
    15 * 60_000,
  );
});
