import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndpointLimits } from '../agents/openai/endpoint-limits';
import { createPolicyFactory } from '../agents/policy-for';
import { loadConfig } from '../config';
import { endpointMatches, endpointRefusal, policyOf } from '../domain/policy-spec';
import { rolloutInputSchema } from '../domain/rollouts';

const home = () => mkdtempSync(join(tmpdir(), 'anvil-policy-spec-'));

describe('policy specs', () => {
  it('accept the old names and the object forms, and refuse a raw key or an unknown field', () => {
    const base = { tasks: ['iris-species'], samplesPerTask: 2 };
    expect(rolloutInputSchema.parse({ ...base, policy: 'heuristic' }).policy).toBe('heuristic');
    expect(rolloutInputSchema.parse({ ...base, policy: { kind: 'heuristic', seed: 7 } }).policy).toEqual({
      kind: 'heuristic',
      seed: 7,
    });
    const openai = {
      kind: 'openai',
      baseUrl: 'http://vllm-3:8000/v1',
      model: 'ckpt-3',
      apiKeyRef: 'trainer',
      temperature: 0.7,
      topP: 0.95,
      maxTokens: 512,
      seed: 1,
      stop: ['</s>'],
      logprobs: true,
      extraBody: { top_k: 20 },
    };
    expect(rolloutInputSchema.parse({ ...base, policy: openai }).policy).toEqual(openai);
    expect(rolloutInputSchema.safeParse({ ...base, policy: { ...openai, apiKey: 'sk-raw' } }).success).toBe(false);
    expect(rolloutInputSchema.safeParse({ ...base, policy: { ...openai, apiKeyRef: 'sk-Raw Key' } }).success).toBe(
      false,
    );
    expect(rolloutInputSchema.safeParse({ ...base, policy: 'gpt' }).success).toBe(false);
    expect(policyOf('openai')).toEqual({ kind: 'openai' });
  });

  it('allow the configured endpoint and allow-list patterns, and refuse any other with what is allowed', () => {
    expect(endpointMatches('http://127.0.0.1:*/v1', 'http://127.0.0.1:41234/v1/')).toBe(true);
    expect(endpointMatches('http://127.0.0.1:*/v1', 'http://127.0.0.1.evil.com:1/v1')).toBe(false);
    expect(endpointMatches('http://vllm-*:8000/v1', 'http://vllm-12:8000/v1')).toBe(true);
    expect(endpointMatches('http://vllm-*:8000/v1', 'http://vllm-1/x:8000/v1')).toBe(false);
    const allow = { defaultUrl: 'https://api.openai.com/v1', allowed: ['http://vllm-*:8000/v1'] };
    expect(endpointRefusal({ kind: 'openai' }, allow)).toBeUndefined();
    expect(endpointRefusal({ kind: 'openai', baseUrl: 'https://api.openai.com/v1' }, allow)).toBeUndefined();
    expect(endpointRefusal({ kind: 'openai', baseUrl: 'http://vllm-2:8000/v1' }, allow)).toBeUndefined();
    expect(endpointRefusal({ kind: 'openai', baseUrl: 'http://attacker.example/v1' }, allow)).toMatch(
      /http:\/\/attacker.example\/v1 is not an allowed endpoint; allowed: https:\/\/api.openai.com\/v1, http:\/\/vllm-\*:8000\/v1/,
    );
  });

  it('on the llm worker: refuse an endpoint outside the allow-list and a key it does not hold', () => {
    const config = loadConfig(
      { ANVIL_LLM_ENDPOINTS: 'http://127.0.0.1:*/v1', ANVIL_LLM_KEY_TRAINER: 'sk-secret' },
      home(),
    );
    expect(config.llm.apiKeys).toEqual({ trainer: 'sk-secret' });
    const policyFor = createPolicyFactory(config);
    expect(policyFor({ kind: 'heuristic' }).name).toBe('heuristic');
    expect(policyFor({ kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKeyRef: 'trainer' }).name).toBe('openai');
    expect(() => policyFor({ kind: 'openai', baseUrl: 'http://10.0.0.1:9/v1' })).toThrow(/not an allowed endpoint/);
    expect(() => policyFor({ kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKeyRef: 'other' })).toThrow(
      /names no key this llm worker holds; set ANVIL_LLM_KEY_OTHER/,
    );
  });
});

describe('endpoint limits', () => {
  it('keep at most `concurrency` requests in flight per endpoint, each endpoint on its own', async () => {
    const limits = new EndpointLimits({
      endpoints: [{ url: 'http://a/v1', concurrency: 2 }, 'http://b/v1'],
      endpointConcurrency: 3,
    });
    let peakA = 0;
    let peakB = 0;
    const hold = (url: string, track: () => void) =>
      limits.run(url, async () => {
        track();
        await new Promise((r) => setTimeout(r, 20));
      });
    await Promise.all([
      ...Array.from({ length: 6 }, () =>
        hold('http://a/v1', () => (peakA = Math.max(peakA, limits.inFlight('http://a/v1')))),
      ),
      ...Array.from({ length: 6 }, () =>
        hold('http://b/v1', () => (peakB = Math.max(peakB, limits.inFlight('http://b/v1')))),
      ),
    ]);
    expect([peakA, peakB]).toEqual([2, 3]);
    expect(limits.inFlight('http://a/v1')).toBe(0);
  });

  it('space request starts to requestsPerMinute', async () => {
    const limits = new EndpointLimits({
      endpoints: [{ url: 'http://a/v1', requestsPerMinute: 1200 }],
      endpointConcurrency: 8,
    });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 4 }, () => limits.run('http://a/v1', async () => starts.push(Date.now()))));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(50); // 1200/min = one start per 50 ms, by the clock
  });
});
