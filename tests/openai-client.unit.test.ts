import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LlmClient } from '../agents/openai/client';
import { PROMPTS_DIR } from '../agents/openai';
import { loadConfig } from '../config';
import { type Script, type ScriptedLlm, startScriptedLlm } from './helpers/scripted-llm';

const schema = z.object({ answer: z.number() });
let server: ScriptedLlm | undefined;
afterEach(() => server?.close());

async function clientFor(script: Script, env: Record<string, string> = {}) {
  server = await startScriptedLlm(script);
  const config = loadConfig(
    {
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: 'test-key',
      ANVIL_MODEL: 'base-model',
      ANVIL_LLM_PRICE_IN: '2',
      ANVIL_LLM_PRICE_OUT: '10',
      ANVIL_LLM_RESPONSE_FORMAT: 'json_schema',
      ...env,
    },
    mkdtempSync(join(tmpdir(), 'anvil-llm-')),
  );
  const failuresDir = mkdtempSync(join(tmpdir(), 'anvil-llm-failures-'));
  return { client: new LlmClient(config.llm, failuresDir), server, failuresDir };
}

describe('LlmClient against an OpenAI-compatible server', () => {
  it("sends the role's model, the messages and a json_schema response format, and counts usage and cost", async () => {
    const { client, server } = await clientFor(() => ({ content: '{"answer": 42}' }), {
      ANVIL_MODEL_DESIGNER: 'designer-model',
    });
    const system = readFileSync(join(PROMPTS_DIR, 'designer.md'), 'utf8');
    const reply = await client.structured('designer', schema, [
      { role: 'system', content: system },
      { role: 'user', content: 'q' },
    ]);
    expect(reply).toMatchObject({ kind: 'value', value: { answer: 42 } });
    await client.structured('reviewer', schema, [{ role: 'user', content: 'q' }]);
    const [first, second] = server.requests;
    expect(first!.model).toBe('designer-model');
    expect(second!.model).toBe('base-model');
    expect(first!.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', system],
      ['user', 'q'],
    ]);
    expect(first!.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'designer_output',
        schema: expect.objectContaining({ type: 'object', required: ['answer'] }),
      },
    });
    expect(client.usage).toEqual({ promptTokens: 200, completionTokens: 100, costUsd: (200 * 2 + 100 * 10) / 1e6 });
  });

  it('re-asks with the validation error after malformed JSON, and accepts JSON wrapped in prose and fences', async () => {
    const replies = ['Sure! {"answer": "forty-two"}', 'not json at all', 'Here you go:\n```json\n{"answer": 42}\n```'];
    const { client, server } = await clientFor((_req, i) => ({ content: replies[i] }));
    const reply = await client.structured('brainstormer', schema, [{ role: 'user', content: 'q' }]);
    expect(reply).toMatchObject({ kind: 'value', value: { answer: 42 } });
    expect(server.requests).toHaveLength(3);
    const feedback = server.requests[1]!.messages.at(-1)!;
    expect(feedback.role).toBe('user');
    expect(feedback.content).toMatch(
      /does not match the required JSON schema:[\s\S]*expected number, received string[\s\S]*at answer/,
    );
    expect(server.requests[1]!.messages.at(-2)).toMatchObject({
      role: 'assistant',
      content: 'Sure! {"answer": "forty-two"}',
    });
  });

  it('reads a JSON reply whose strings hold code fences of their own', async () => {
    const withFence = z.object({ answer: z.number(), text: z.string() });
    const content = JSON.stringify({ answer: 5, text: 'Submission format:\n```\nid,y\n1,2\n```\n' });
    const { client } = await clientFor(() => ({ content }));
    expect(await client.structured('designer', withFence, [{ role: 'user', content: 'q' }])).toMatchObject({
      kind: 'value',
      value: { answer: 5 },
    });
  });

  it('fails for good after the bounded retries, keeping the raw replies for inspection', async () => {
    const { client, server, failuresDir } = await clientFor(() => ({ content: '{"answer": null}' }), {
      ANVIL_LLM_OUTPUT_RETRIES: '1',
    });
    const err = await client
      .structured('refactorer', schema, [{ role: 'user', content: 'q' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'InvalidRoleOutput', nonRetryable: true });
    expect(server.requests).toHaveLength(2);
    const kept = /kept in (\S+\.json)/.exec((err as Error).message)![1]!;
    expect(kept.startsWith(failuresDir)).toBe(true);
    expect(JSON.parse(readFileSync(kept, 'utf8'))).toMatchObject({
      role: 'refactorer',
      replies: ['{"answer": null}', '{"answer": null}'],
    });
  });

  it("probes the server once per model: llama.cpp's json_object + schema after a 500 for json_schema", async () => {
    const { client, server } = await clientFor(
      (req) =>
        req.response_format?.type === 'json_schema'
          ? { status: 500, error: 'Internal Server Error' }
          : { content: req.messages[0]!.content?.includes('{"ok": true}') ? '{"ok": true}' : '{"answer": 7}' },
      { ANVIL_LLM_RESPONSE_FORMAT: 'auto' },
    );
    for (let i = 0; i < 2; i++)
      expect(await client.structured('reviewer', schema, [{ role: 'user', content: 'q' }])).toMatchObject({
        value: { answer: 7 },
      });
    // two probes (json_schema refused, json_object answered), then two asks in the probed dialect
    expect(server.requests.map((r) => r.response_format?.type)).toEqual([
      'json_schema',
      'json_object',
      'json_object',
      'json_object',
    ]);
    expect(server.requests[2]!.response_format).toMatchObject({
      type: 'json_object',
      schema: expect.objectContaining({ required: ['answer'] }),
    });
    expect(client.calls.map((c) => [c.dialect, c.valid])).toEqual([
      ['json_object', true],
      ['json_object', true],
    ]);
  });

  it('falls back to JSON in text for servers without any response format', async () => {
    const { client, server } = await clientFor(
      (req) =>
        req.response_format
          ? { status: 400, error: `response_format '${req.response_format.type}' is not supported` }
          : { content: '{"answer": 7}' },
      { ANVIL_LLM_RESPONSE_FORMAT: 'auto' },
    );
    expect(await client.structured('reviewer', schema, [{ role: 'user', content: 'q' }])).toMatchObject({
      value: { answer: 7 },
    });
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2]!.response_format).toBeUndefined();
    expect(server.requests[2]!.messages.at(-1)!.content).toMatch(
      /^Reply with JSON only, matching this JSON schema:\n\{.*"answer"/,
    );
  });

  it('leaves earlier invalid replies out to fit the context window, and fails clearly when the prompt cannot fit', async () => {
    const { client, server } = await clientFor((_req, i) => ({ content: i < 2 ? 'x'.repeat(600) : '{"answer": 1}' }), {
      ANVIL_LLM_CONTEXT_TOKENS: '1000',
      ANVIL_LLM_MAX_TOKENS: '200',
    });
    expect(await client.structured('designer', schema, [{ role: 'user', content: 'q'.repeat(1200) }])).toMatchObject({
      value: { answer: 1 },
    });
    // the third ask would be 1200 + 2 × 600 characters of replies: the first invalid reply is left out, with a note
    const third = server.requests[2]!.messages;
    expect(third.map((m) => m.role)).toEqual(['user', 'user', 'assistant', 'user']);
    expect(third[1]!.content).toMatch(
      /1 earlier invalid replies and their errors are left out to fit the context window/,
    );

    const err = await client
      .structured('designer', schema, [{ role: 'user', content: 'q'.repeat(3000) }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'PromptTooLong', nonRetryable: true });
    expect((err as Error).message).toMatch(/designer's prompt takes \d+ tokens \(estimated\), more than the 800/);
    expect(server.requests).toHaveLength(3); // nothing was sent
  });

  it("turns a server's context-length refusal into a clear failure, not a retry", async () => {
    const { client } = await clientFor(() => ({
      status: 400,
      error: "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens",
    }));
    const err = await client
      .structured('brainstormer', schema, [{ role: 'user', content: 'q' }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'PromptTooLong', nonRetryable: true });
    expect((err as Error).message).toContain('ANVIL_LLM_CONTEXT_TOKENS');
  });

  it('tells the model when its reply was cut off at the token limit', async () => {
    const { client, server } = await clientFor((_req, i) =>
      i === 0 ? { content: '{"answer": ', finishReason: 'length' } : { content: '{"answer": 3}' },
    );
    await client.structured('mlops', schema, [{ role: 'user', content: 'q' }]);
    expect(server.requests[1]!.messages.at(-1)!.content).toMatch(/cut off at the token limit/);
    expect(client.calls.map((c) => [c.reask, c.valid, c.finishReason])).toEqual([
      [0, false, 'length'],
      [1, true, 'stop'],
    ]);
  });

  it('sends every object schema closed, so a grammar-constrained model cannot wander into invented keys', async () => {
    const { client, server } = await clientFor(() => ({ content: '{"metric": {"name": "rmse"}, "files": {}}' }));
    const loose = z.object({ metric: z.looseObject({ name: z.string() }), files: z.record(z.string(), z.string()) });
    await client.structured('brainstormer', loose, [{ role: 'user', content: 'q' }]);
    const sent = server.requests[0]!.response_format!.json_schema!.schema as {
      additionalProperties: unknown;
      properties: Record<string, { additionalProperties: unknown }>;
    };
    expect(sent.additionalProperties).toBe(false);
    expect(sent.properties.metric!.additionalProperties).toBe(false);
    expect(sent.properties.files!.additionalProperties).toEqual({ type: 'string' }); // a record keeps its values' schema
  });

  it('turns a 429 into a retryable failure that waits what the server asked', async () => {
    const { client } = await clientFor(() => ({ status: 429, headers: { 'retry-after': '3' } }));
    const err = await client.structured('designer', schema, [{ role: 'user', content: 'q' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 3000 });
  });

  it('gives up on a request at its time limit with a retryable error', async () => {
    const { client } = await clientFor(() => ({ content: '{"answer": 1}', delayMs: 3000 }), {
      ANVIL_LLM_TIMEOUT_S: '1',
    });
    const started = Date.now();
    const err = await client.structured('designer', schema, [{ role: 'user', content: 'q' }]).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2500);
    expect((err as Error).constructor.name).toBe('APIConnectionTimeoutError');
    expect(err).not.toBeInstanceOf(ApplicationFailure); // retried under the activity's retry policy
  });

  it('refuses a bad key for good, naming the setting', async () => {
    const { client } = await clientFor(() => ({ status: 401, error: 'invalid api key' }));
    const err = await client.structured('designer', schema, [{ role: 'user', content: 'q' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'LlmRefused', nonRetryable: true });
    expect((err as Error).message).toContain('check OPENAI_API_KEY');
  });
});
