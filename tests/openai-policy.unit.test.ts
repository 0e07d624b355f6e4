import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAiPolicy } from '../agents/openai/policy';
import { PROMPTS_DIR } from '../agents/openai';
import type { Policy } from '../agents/policy';
import { loadConfig } from '../config';
import { type Action, ENV_ACTIONS, type EnvAction, type Observation, type PolicyTurn } from '../domain/env';
import type { OpenAiPolicySpec } from '../domain/policy-spec';
import { compact } from '../domain/sft';
import type { TranscriptTurn } from '../domain/transcript';
import {
  type ChatRequest,
  type Script,
  type ScriptedLlm,
  type ScriptedReply,
  startScriptedLlm,
} from './helpers/scripted-llm';
import { policyScript } from './helpers/scripted-policy';

let server: ScriptedLlm | undefined;
afterEach(() => server?.close());

async function policyFor(script: Script, env: Record<string, string> = {}) {
  server = await startScriptedLlm(script);
  const config = loadConfig(
    {
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: 'test-key',
      ANVIL_MODEL: 'base-model',
      ANVIL_MODEL_POLICY: 'policy-model',
      ...env,
    },
    mkdtempSync(join(tmpdir(), 'anvil-policy-')),
  );
  const failuresDir = mkdtempSync(join(tmpdir(), 'anvil-policy-failures-'));
  return { policy: createOpenAiPolicy({ llm: config.llm, failuresDir }), server, failuresDir };
}

const STEPS = 10;
const DESCRIPTION = '# Penguin sex\n\nPredict `is_male` for each penguin of test.csv.';
function observation(step: number, action: EnvAction | 'open', over: Partial<Observation> = {}): Observation {
  return {
    step,
    action,
    status: 'ok',
    message: `${action} done`,
    budget: { stepsUsed: step, stepsLeft: STEPS - step, wallTimeLeftS: 3600 },
    done: false,
    ...over,
  };
}
const opening = (): PolicyTurn => ({
  observation: observation(0, 'open', {
    info: { kind: 'overview', title: 'Penguin sex', target: 'is_male', description: DESCRIPTION },
  }),
  reward: 0,
  done: false,
});

/** What the environment answers to an action: enough for an agent to go on. */
function respond(action: Action, step: number): Observation {
  switch (action.action) {
    case 'request_info':
      return observation(step, action.action, {
        info: {
          kind: action.params.kind,
          sampleSubmission: 'id,is_male\n8,0.5\n',
          path: '/data/sample_submission.csv',
          writeTo: '/workspace/out/submission.csv',
        },
      });
    case 'validate_code':
      return observation(step, action.action, {
        run: {
          exitCode: 0,
          timedOut: false,
          oomKilled: false,
          wallMs: 900,
          stdout: `${'x'.repeat(5000)}rows written`,
          stderr: '',
          outputTruncated: false,
        },
        submission: { valid: true },
      });
    case 'execute_code':
      return observation(step, action.action, { score: { raw: 0.5, position: 0.1, medal: 'none' } });
    default:
      return observation(step, action.action);
  }
}

/** Plays an episode as the episode workflow does: the policy acts until it returns null or the session ends. */
async function drive(policy: Policy): Promise<PolicyTurn[]> {
  const turns = [opening()];
  for (let action = await policy.next(turns); action; action = await policy.next(turns)) {
    const obs = respond(action, turns.length);
    turns.push({ observation: obs, reward: obs.score ? 0.1 : 0, done: obs.done, action });
  }
  return turns;
}

const call = (name: string, args: string, id = 'call_x'): ScriptedReply => ({
  toolCalls: [{ id, name, arguments: args }],
});
const CODE =
  'import pandas as pd\npd.read_csv("/data/sample_submission.csv").to_csv("/workspace/submission.csv", index=False)\n';
const actionsOf = (turns: PolicyTurn[]) => turns.flatMap((t) => (t.action ? [t.action] : []));
type ToolCallSent = { id: string; function: { name: string; arguments: string } };
const callsIn = (request: ChatRequest) => request.messages.flatMap((m) => (m.tool_calls ?? []) as ToolCallSent[]);

describe('the openai policy against an OpenAI-compatible server', () => {
  it('acts through tool calls until the model answers in text, sending the whole conversation each time', async () => {
    const replies = [
      call('request_info', '{"kind":"data"}', 'a'),
      call('validate_code', JSON.stringify({ code: CODE }), 'b'),
      call('execute_code', JSON.stringify({ code: CODE }), 'c'),
      { content: 'I am done.' },
    ];
    const { policy, server } = await policyFor((_req, i) => replies[i]!);
    const turns = await drive(policy);

    expect(actionsOf(turns)).toEqual([
      { action: 'request_info', params: { kind: 'data' } },
      { action: 'validate_code', params: { code: CODE } },
      { action: 'execute_code', params: { code: CODE } },
    ]);
    expect(server.requests).toHaveLength(4);
    const system = readFileSync(join(PROMPTS_DIR, 'policy.md'), 'utf8');
    for (const [k, request] of server.requests.entries()) {
      expect(request.model).toBe('policy-model');
      expect(request.response_format).toBeUndefined();
      expect(request.tools?.map((t) => t.function.name)).toEqual([...ENV_ACTIONS]);
      expect(request.messages).toHaveLength(2 + 2 * k);
      expect(request.messages[0]).toEqual({ role: 'system', content: system });
      expect(request.messages[1]!.role).toBe('user');
      expect(request.messages[1]!.content).toContain(DESCRIPTION);
      // every tool call is followed by its observation, compacted as in SFT records, under its id
      for (let j = 0; j < k; j++) {
        const [assistant, tool] = [request.messages[2 + 2 * j]!, request.messages[3 + 2 * j]!];
        const [sent] = assistant.tool_calls as ToolCallSent[];
        expect(assistant.role).toBe('assistant');
        expect({ action: sent!.function.name, params: JSON.parse(sent!.function.arguments) as unknown }).toEqual(
          turns[j + 1]!.action,
        );
        expect(tool).toMatchObject({ role: 'tool', tool_call_id: sent!.id });
        expect(JSON.parse(tool.content!)).toEqual(compact(turns[j + 1]!.observation));
      }
      // the conversation only grows: the same turns rebuild the same messages
      if (k > 0) expect(request.messages.slice(0, -2)).toEqual(server.requests[k - 1]!.messages);
    }
    const stdout = (JSON.parse(server.requests[3]!.messages.at(-3)!.content!) as { run: { stdout: string } }).run
      .stdout;
    expect(stdout.length).toBeLessThan(2100);
    expect(stdout.endsWith('rows written')).toBe(true);
  });

  it('re-asks after malformed tool calls with the error as the tool result, then takes the corrected one', async () => {
    const replies = [
      call('validate_code', '{"code": "print(1)', 'bad-json'),
      call('run_shell', '{"cmd": "ls"}', 'unknown'),
      call('execute_code', '{}', 'no-code'),
      call('validate_code', JSON.stringify({ code: CODE }), 'good'),
    ];
    const { policy, server } = await policyFor((_req, i) => replies[i]!, { ANVIL_LLM_OUTPUT_RETRIES: '3' });
    expect(await policy.next([opening()])).toEqual({ action: 'validate_code', params: { code: CODE } });
    expect(server.requests).toHaveLength(4);
    const feedback = server.requests.slice(1).map((r) => r.messages.at(-1)!);
    expect(feedback.map((m) => m.tool_call_id)).toEqual(['bad-json', 'unknown', 'no-code']);
    expect(feedback.every((m) => m.role === 'tool')).toBe(true);
    expect(feedback[0]!.content).toMatch(/arguments of validate_code are not JSON/);
    expect(feedback[1]!.content).toMatch(
      /no tool "run_shell": call one of request_info, validate_code, execute_code, get_history, reset, select_submission/,
    );
    expect(feedback[2]!.content).toMatch(/invalid arguments for execute_code: params\.code/);
    expect(server.requests[3]!.messages).toHaveLength(2 + 2 * 3); // each bad call and its error stay in the retry's conversation
  });

  it('gives up with InvalidPolicyOutput after its bounded retries, keeping the conversation', async () => {
    const { policy, server, failuresDir } = await policyFor(() => call('reset', 'not json'), {
      ANVIL_LLM_OUTPUT_RETRIES: '1',
    });
    const err = (await policy.next([opening()]).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ApplicationFailure); // a plain Error reaches Temporal as type "Error": retried
    expect(err).toMatchObject({ type: 'InvalidPolicyOutput', nonRetryable: true });
    expect(err.message).toMatch(/invalid 2 times \(last: the arguments of reset are not JSON: not json\)/);
    expect(server.requests).toHaveLength(2);
    const kept = /kept in (\S+\.json)/.exec(err.message)![1]!;
    expect(kept.startsWith(failuresDir)).toBe(true);
    expect(JSON.parse(readFileSync(kept, 'utf8'))).toMatchObject({
      model: 'policy-model',
      problems: [expect.any(String), expect.any(String)],
    });
  });

  it('runs only the first of several tool calls in a reply', async () => {
    const { policy } = await policyFor(() => ({
      toolCalls: [
        { id: '1', name: 'request_info', arguments: '{"kind":"metric"}' },
        { id: '2', name: 'reset', arguments: '{}' },
      ],
    }));
    expect(await policy.next([opening()])).toEqual({ action: 'request_info', params: { kind: 'metric' } });
  });

  it('turns a 429 into a retryable failure that waits what the server asked; the retry sends the same request', async () => {
    const { policy, server } = await policyFor((_req, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '2' } } : call('get_history', ''),
    );
    const turns = [opening()];
    const err = await policy.next(turns).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 2000 });
    expect(await policy.next(turns)).toEqual({ action: 'get_history', params: {} }); // as Temporal's retry would
    expect(server.requests[1]).toEqual(server.requests[0]);
  });

  it('stops without asking the model once the session is done or no steps are left', async () => {
    const { policy, server } = await policyFor(() => call('reset', '{}'));
    const done: PolicyTurn = {
      observation: observation(3, 'execute_code', { done: true, doneReason: 'steps' }),
      reward: 0,
      done: true,
      action: { action: 'reset', params: {} },
    };
    const spent: PolicyTurn = {
      observation: observation(STEPS, 'reset'),
      reward: 0,
      done: false,
      action: { action: 'reset', params: {} },
    };
    expect(await policy.next([opening(), done])).toBeNull();
    expect(await policy.next([opening(), spent])).toBeNull();
    expect(server.requests).toHaveLength(0);
  });

  it('policyScript plays any task: the sample submission, validated, executed, then a text answer', async () => {
    const { policy, server } = await policyFor(policyScript());
    const turns = await drive(policy);
    const code =
      'import pandas as pd\n\nsubmission = pd.read_csv("/data/sample_submission.csv")\nsubmission.to_csv("/workspace/out/submission.csv", index=False)\nprint(len(submission), "rows written")\n';
    expect(actionsOf(turns)).toEqual([
      { action: 'request_info', params: { kind: 'sample_submission' } },
      { action: 'validate_code', params: { code } }, // the paths the observation gave
      { action: 'execute_code', params: { code } },
    ]);
    expect(server.requests).toHaveLength(4);
    expect(callsIn(server.requests[3]!).map((c) => c.function.name)).toEqual([
      'request_info',
      'validate_code',
      'execute_code',
    ]);
  });
});

describe('the openai policy with a per-batch spec', () => {
  /** A policy for `spec` on the scripted server, its transcript turns collected in order. */
  async function specPolicy(script: Script, spec: Omit<OpenAiPolicySpec, 'kind' | 'baseUrl'>, apiKey?: string) {
    const { server } = await policyFor(script);
    const config = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, mkdtempSync(join(tmpdir(), 'anvil-')));
    const records: Omit<TranscriptTurn, 'turn'>[] = [];
    const policy = createOpenAiPolicy({
      llm: config.llm,
      spec: { kind: 'openai', baseUrl: server.url, ...spec },
      apiKey,
      transcript: async (r) => void records.push(structuredClone(r)),
    });
    return { policy, server, records };
  }

  it('sends its model, sampling settings and key, and records each turn with token data when asked for', async () => {
    const replies: ScriptedReply[] = [
      { ...call('request_info', '{"kind":"data"}', 'a'), logprobs: { tokenIds: [11, 12], logprobs: [-0.5, -0.25] } },
      { content: 'done', logprobs: { tokenIds: [13], logprobs: [-1] } },
    ];
    const spec = {
      model: 'ckpt-7',
      temperature: 0.6,
      topP: 0.9,
      maxTokens: 256,
      seed: 3,
      stop: ['</s>'],
      logprobs: true,
      extraBody: { top_k: 20 },
    };
    const { policy, server, records } = await specPolicy((_req, i) => replies[i]!, spec, 'sk-ckpt');
    await drive(policy);
    expect(server.authorizations).toEqual(['Bearer sk-ckpt', 'Bearer sk-ckpt']);
    expect(
      server.requests.map((r) => [r.model, r.temperature, r.top_p, r.max_tokens, r.seed, r.stop, r.logprobs, r.top_k]),
    ).toEqual(Array(2).fill(['ckpt-7', 0.6, 0.9, 256, 3, ['</s>'], true, 20]));
    expect(records.map((r) => [r.endpoint, r.model, r.action])).toEqual([
      [server.url, 'ckpt-7', { action: 'request_info', params: { kind: 'data' } }],
      [server.url, 'ckpt-7', null],
    ]);
    expect(records[0]!.sampling).toEqual({
      temperature: 0.6,
      top_p: 0.9,
      max_tokens: 256,
      seed: 3,
      stop: ['</s>'],
      logprobs: true,
      top_k: 20,
    });
    expect(records[0]!.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(records[1]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(records[0]!.attempts).toEqual([
      expect.objectContaining({
        finishReason: 'tool_calls',
        promptTokens: 100,
        completionTokens: 50,
        tokens: { tokens: ['token_id:11', 'token_id:12'], logprobs: [-0.5, -0.25], tokenIds: [11, 12] },
      }),
    ]);
  });

  it('leaves token data absent when the server returns none, and keeps every refused reply with why', async () => {
    const replies: ScriptedReply[] = [
      call('train_model', '{}', 'x'),
      call('request_info', '{"kind":"data"}', 'y'),
      { content: 'done' },
    ];
    const { policy, records } = await specPolicy((_req, i) => replies[i]!, { model: 'ckpt-0' });
    await drive(policy);
    expect(records[0]!.attempts.map((a) => [a.rejected, 'tokens' in a])).toEqual([
      [expect.stringMatching(/there is no tool "train_model"/), false],
      [undefined, false],
    ]);
    expect(records[0]!.sampling).toEqual({});
  });

  it('sends sample k of a group seed + k, and asks for log-probs with top_logprobs 0 (llama.cpp needs it)', async () => {
    const { server } = await policyFor(() => call('get_history', '{}'));
    const config = loadConfig({ OPENAI_BASE_URL: server.url }, mkdtempSync(join(tmpdir(), 'anvil-')));
    const spec = { kind: 'openai' as const, temperature: 1, seed: 7, logprobs: true };
    const records: Omit<TranscriptTurn, 'turn'>[] = [];
    for (const sample of [0, 3])
      await createOpenAiPolicy({ llm: config.llm, spec, sample, transcript: async (r) => void records.push(r) }).next([
        opening(),
      ]);
    expect(server.requests.map((r) => [r.seed, r.logprobs, r.top_logprobs])).toEqual([
      [7, true, 0],
      [10, true, 0],
    ]);
    expect(records.map((r) => r.sampling.seed)).toEqual([7, 10]);
  });
});

describe("the openai policy within the model's context window", () => {
  /** the opening, then `n` validate_code steps whose ~2000-character observations fill the prompt */
  const longTurns = (n: number): PolicyTurn[] => [
    opening(),
    ...Array.from({ length: n }, (_, i) => {
      const action: Action = { action: 'validate_code', params: { code: CODE } };
      return { observation: respond(action, i + 1), reward: 0, done: false, action };
    }),
  ];

  it('leaves the oldest observations out with a note saying so, keeping the latest whole', async () => {
    // 3000-token window, 500 for the reply; no tokenizer on the server: 3 characters a token, estimated
    const { policy, server } = await policyFor(() => call('get_history', '{}'), {
      ANVIL_LLM_CONTEXT_TOKENS: '3000',
      ANVIL_LLM_MAX_TOKENS: '500',
    });
    const turns = longTurns(4);
    expect(await policy.next(turns)).toEqual({ action: 'get_history', params: {} });
    const tools = server.requests[0]!.messages.filter((m) => m.role === 'tool').map((m) => m.content!);
    expect(tools).toHaveLength(4);
    const left = tools.filter((c) => c.startsWith('(the observation of step'));
    expect(left.length).toBeGreaterThan(0);
    expect(left.length).toBeLessThan(4);
    left.forEach((c, i) => expect(c).toMatch(new RegExp(`^\\(the observation of step ${i + 1} is left out to fit`)));
    expect(JSON.parse(tools.at(-1)!)).toEqual(compact(turns[4]!.observation)); // the latest, whole
    const chars = JSON.stringify(server.requests[0]!.messages).length;
    expect(chars / 3).toBeLessThan(2500 + 100);
  });

  it('sends a prompt that fits as it is, and fails PromptTooLong for good when even the first turn cannot fit', async () => {
    const fits = await policyFor(() => call('get_history', '{}'), { ANVIL_LLM_CONTEXT_TOKENS: '8192' });
    await fits.policy.next(longTurns(2));
    expect(fits.server.requests[0]!.messages.filter((m) => m.content?.startsWith('(the observation'))).toEqual([]);
    await fits.server.close();

    const { policy, server } = await policyFor(() => call('get_history', '{}'), {
      ANVIL_LLM_CONTEXT_TOKENS: '1000',
      ANVIL_LLM_MAX_TOKENS: '500',
    });
    const err = await policy.next(longTurns(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'PromptTooLong', nonRetryable: true });
    expect((err as Error).message).toMatch(
      /the policy's prompt takes \d+ tokens \(estimated\) with every earlier observation left out, more than the 500 that policy-model's 1000-token context window leaves beside 500 for the reply/,
    );
    expect(server.requests).toHaveLength(0);
  });
});
