import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRollout } from '../cli/rollout-export';
import { createRolloutService, type RolloutService } from '../client/rollouts';
import type { EpisodeRow } from '../domain/rollout-export';
import type { RolloutInput, RolloutResult } from '../domain/rollouts';
import type { TranscriptTurn } from '../domain/transcript';
import { publishFixture } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { type Script, type ScriptedLlm, startScriptedLlm } from './helpers/scripted-llm';

/** A model that asks for the overview, then the data description, then answers in text: no sandbox runs. */
function infoScript(): Script {
  return (request, index) => {
    const calls = request.messages.filter((m) => m.role === 'assistant').length;
    const logprobs = { tokenIds: [100 + index, 7], logprobs: [-0.125, -0.5] };
    if (calls === 0)
      return { toolCalls: [{ id: `o${index}`, name: 'request_info', arguments: '{"kind":"overview"}' }], logprobs };
    if (calls === 1)
      return { toolCalls: [{ id: `d${index}`, name: 'request_info', arguments: '{"kind":"data"}' }], logprobs };
    return { content: 'I have read enough.', logprobs };
  };
}

const transcriptOf = (dir: string): TranscriptTurn[] =>
  [0, 1, 2].map((n) => JSON.parse(readFileSync(join(dir, `turn-000${n}.json`), 'utf8')) as TranscriptTurn);

/** A workflow's whole history (all runs' events as the server sends them), encoded as protobuf bytes. */
async function historyBytes(t: TestEnv, workflowId: string): Promise<number> {
  const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
  return temporal.api.history.v1.History.encode(history).finish().length;
}

describe('rollouts with per-batch policy endpoints', () => {
  let t: TestEnv;
  let a: ScriptedLlm;
  let b: ScriptedLlm;
  let fallback: ScriptedLlm;
  let rollouts: RolloutService;

  beforeAll(async () => {
    [a, b, fallback] = await Promise.all([
      startScriptedLlm(infoScript()),
      startScriptedLlm(infoScript()),
      startScriptedLlm(infoScript()),
    ]);
    t = await createTestEnv({
      OPENAI_BASE_URL: fallback.url,
      OPENAI_API_KEY: 'default-key',
      ANVIL_MODEL: 'default-model',
      ANVIL_LLM_ENDPOINTS: 'http://127.0.0.1:*/v1',
      ANVIL_LLM_KEY_TRAINER: 'sk-trainer',
    });
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    await publishFixture(t, 'iris-species');
    rollouts = createRolloutService({
      client: t.client,
      controlQueue: t.controlQueue,
      catalogDir: t.config.paths.catalog,
      endpoints: { defaultUrl: t.config.llm.baseUrl, allowed: ['http://127.0.0.1:*/v1'] },
    });
  }, 300_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all([a, b, fallback].map((s) => s?.close()));
  });

  const run = async (input: RolloutInput): Promise<RolloutResult> => rollouts.run(input);

  it('two batches on two endpoints: each transcript shows its server, model and sampling; log-probs only where returned', async () => {
    const [first, second] = await Promise.all([
      run({
        tasks: ['iris-species'],
        samplesPerTask: 2,
        maxSteps: 4,
        policy: { kind: 'openai', baseUrl: a.url, model: 'ckpt-a', temperature: 0.2, seed: 11, logprobs: true },
      }),
      run({
        tasks: ['iris-species'],
        samplesPerTask: 2,
        maxSteps: 4,
        policy: {
          kind: 'openai',
          baseUrl: b.url,
          model: 'ckpt-b',
          apiKeyRef: 'trainer',
          topP: 0.5,
          maxTokens: 128,
          extraBody: { top_k: 5 },
        },
      }),
    ]);
    expect(fallback.requests).toHaveLength(0);
    expect(a.requests.map((r) => [r.model, r.temperature, r.logprobs, r.top_logprobs])).toEqual(
      Array(6).fill(['ckpt-a', 0.2, true, 0]),
    );
    expect(a.requests.map((r) => r.seed as number).sort()).toEqual([11, 11, 11, 12, 12, 12]); // sample k: seed + k
    expect(b.requests.map((r) => [r.model, r.top_p, r.max_tokens, r.top_k])).toEqual(
      Array(6).fill(['ckpt-b', 0.5, 128, 5]),
    );
    expect(new Set(a.authorizations)).toEqual(new Set(['Bearer default-key']));
    expect(new Set(b.authorizations)).toEqual(new Set(['Bearer sk-trainer']));

    for (const [result, server, model, sampling] of [
      [first, a, 'ckpt-a', (k: number) => ({ temperature: 0.2, seed: 11 + k, logprobs: true })],
      [second, b, 'ckpt-b', () => ({ top_p: 0.5, max_tokens: 128, top_k: 5 })],
    ] as const) {
      expect(result.episodes.map((e) => [e.status, e.steps])).toEqual([
        ['completed', 2],
        ['completed', 2],
      ]);
      for (const e of result.episodes) {
        const turns = transcriptOf(e.transcript!);
        expect(turns.map((x) => [x.endpoint, x.model, x.sampling])).toEqual(
          Array(3).fill([server.url, model, sampling(e.sample)]),
        );
        expect(turns.map((x) => x.messages.map((m) => m.role).join(','))).toEqual([
          'system,user',
          'system,user,assistant,tool',
          'system,user,assistant,tool,assistant,tool',
        ]);
        expect(turns[2]!.attempts[0]!.message.content).toBe('I have read enough.');
      }
      const out = mkdtempSync(join(tmpdir(), 'anvil-rollout-export-'));
      await exportRollout(result, out);
      const rows = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as EpisodeRow);
      expect(rows.map((r) => [r.model, r.endpoint, r.turns.length, r.prompt_tokens])).toEqual(
        Array(2).fill([model, server.url, 3, 300]),
      );
      for (const turn of rows.flatMap((r) => r.turns)) {
        if (server === a) {
          expect(turn.token_ids).toEqual([expect.any(Number), 7]);
          expect(turn.logprobs).toEqual([-0.125, -0.5]);
        } else expect(['token_ids', 'logprobs', 'tokens'].filter((k) => k in turn)).toEqual([]);
      }
    }
  }, 600_000);

  it('anvil export rollout <id> writes the rows, and --sft --top-k 1 one chat record per group', async () => {
    const result = await run({
      tasks: ['iris-species'],
      samplesPerTask: 2,
      maxSteps: 4,
      policy: { kind: 'openai', baseUrl: a.url, model: 'ckpt-a', logprobs: true },
    });
    const out = mkdtempSync(join(tmpdir(), 'anvil-cli-export-'));
    const { stdout } = await promisify(execFile)(
      'node',
      [
        join(__dirname, '..', 'bin', 'anvil.js'),
        'export',
        'rollout',
        result.workflowId,
        '--out',
        out,
        '--sft',
        '--top-k',
        '1',
        '--json',
      ],
      { env: t.env, timeout: 120_000 },
    );
    expect(JSON.parse(stdout)).toMatchObject({ rows: 2 });
    const rows = readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(2);
    const sft = readFileSync(join(out, 'sft.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(sft.map((r) => r.group_id)).toEqual([`${result.workflowId}/iris-species`]);
    expect(sft[0].messages.map((m: { role: string }) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
    ]);
    expect(readFileSync(join(out, 'episodes.parquet')).subarray(0, 4).toString()).toBe('PAR1');
  }, 300_000);

  it('refuses an endpoint outside the allow-list before any episode starts, from the service and in the workflow', async () => {
    const outside = { kind: 'openai' as const, baseUrl: 'http://localhost:9/v1', model: 'x' };
    await expect(rollouts.start({ tasks: ['iris-species'], samplesPerTask: 1, policy: outside })).rejects.toThrow(
      /policy.baseUrl http:\/\/localhost:9\/v1 is not an allowed endpoint; allowed: .*http:\/\/127.0.0.1:\*\/v1/,
    );
    // A client that starts the workflow itself (Python temporalio, say) meets the llm worker's check.
    const id = `rollout-refused-${Date.now()}`;
    const handle = await t.client.workflow.start('rolloutBatch', {
      taskQueue: t.controlQueue,
      workflowId: id,
      args: [{ tasks: ['iris-species'], samplesPerTask: 1, policy: outside, catalogDir: t.config.paths.catalog }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/bad rollout policy: .*not an allowed endpoint/);
    await expect(t.client.workflow.getHandle(`${id}--iris-species--0`).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
    const unknownKey = { kind: 'openai' as const, baseUrl: a.url, apiKeyRef: 'nobody' };
    const keyed = await t.client.workflow.start('rolloutBatch', {
      taskQueue: t.controlQueue,
      workflowId: `${id}-key`,
      args: [{ tasks: ['iris-species'], samplesPerTask: 1, policy: unknownKey, catalogDir: t.config.paths.catalog }],
    });
    await expect(keyed.result()).rejects.toThrow();
    const keyErr = (await keyed.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(keyErr.cause?.message).toMatch(/"nobody" names no key this llm worker holds; set ANVIL_LLM_KEY_NOBODY/);
  }, 120_000);

  it('64 episodes with transcripts keep every workflow history under 2 MB', async () => {
    const result = await run({
      tasks: ['iris-species'],
      samplesPerTask: 64,
      maxSteps: 4,
      concurrency: 16,
      policy: { kind: 'openai', baseUrl: a.url, model: 'ckpt-a', logprobs: true },
    });
    expect(result.episodes.filter((e) => e.status === 'completed')).toHaveLength(64);
    expect(result.episodes.every((e) => e.transcript)).toBe(true);
    const ids = [
      result.workflowId,
      ...result.episodes.flatMap((e) => [`${result.workflowId}--${e.task}--${e.sample}`, e.envId!]),
    ];
    const sizes = await Promise.all(ids.map((id) => historyBytes(t, id)));
    const largest = Math.max(...sizes);
    console.log(`64-episode batch: ${ids.length} histories, batch ${sizes[0]} bytes, largest ${largest} bytes`);
    expect(sizes).toHaveLength(129);
    expect(largest).toBeLessThan(2 * 1024 * 1024);
  }, 900_000);
});
