import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { openAiClient } from './client';
import { fitPolicyPrompt } from './policy-context';
import { completeWithTools } from './tool-dialect';
import type { ChatCompletion, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { AnvilConfig } from '../../config';
import {
  type Action,
  actionSchema,
  describeIssues,
  ENV_ACTIONS,
  type Observation,
  type PolicyTurn,
} from '../../domain/env';
import type { OpenAiPolicySpec } from '../../domain/policy-spec';
import { compact, ENV_TOOLS } from '../../domain/sft';
import {
  tokenDataOf,
  type TranscriptAttempt,
  type TranscriptMessage,
  type TranscriptTurn,
} from '../../domain/transcript';
import type { Policy } from '../policy';
import type { Message } from './client';
import type { EndpointLimits } from './endpoint-limits';

const SYSTEM_PROMPT = readFileSync(join(__dirname, 'prompts', 'policy.md'), 'utf8');

/**
 * An LLM agent over any OpenAI-compatible endpoint: the five environment actions are its tools.
 * It keeps no state between calls (it runs as a Temporal activity, retried anywhere): each call
 * rebuilds the conversation from the turns, so the same turns always send the same messages.
 */
export function createOpenAiPolicy({
  llm,
  failuresDir,
  spec,
  apiKey,
  limits,
  transcript,
  sample,
}: {
  llm: AnvilConfig['llm'];
  failuresDir?: string;
  /** a rollout's own endpoint, model and sampling (unset fields: the config's) */
  spec?: OpenAiPolicySpec;
  /** the key `spec.apiKeyRef` names, resolved by the worker; unset = `llm.apiKey` */
  apiKey?: string;
  limits?: EndpointLimits;
  /** receives the turn's transcript (prompt, every reply, tokens), also when every reply was refused */
  transcript?: (turn: Omit<TranscriptTurn, 'turn'>) => Promise<void>;
  /** the episode's sample in its group: added to `spec.seed`, so a seeded group's samples differ */
  sample?: number;
}): Policy {
  const baseUrl = spec?.baseUrl ?? llm.baseUrl;
  const openai = openAiClient({ baseUrl, apiKey: apiKey ?? llm.apiKey ?? 'none', timeoutS: llm.timeoutS });
  const model = spec?.model ?? llm.models.policy ?? llm.model;
  const sampling = samplingOf(spec, sample);

  // the configured window belongs to the configured endpoint; another one says its own on /models
  const server = { ...llm, baseUrl, ...(baseUrl !== llm.baseUrl && { contextTokens: undefined }) };
  const replyTokens = (sampling.max_tokens as number | undefined) ?? llm.maxTokens;

  async function complete(messages: Message[]): Promise<ChatCompletion> {
    try {
      const body = {
        ...(sampling as object),
        // llama.cpp returns log-probs only when top_logprobs is set; OpenAI and vLLM accept 0
        ...(sampling.logprobs === true && sampling.top_logprobs === undefined && { top_logprobs: 0 }),
        // the configured cap (ANVIL_LLM_MAX_TOKENS) unless the spec says: a small model rambles to its window's end
        ...(sampling.max_tokens === undefined && llm.maxTokens !== undefined && { max_tokens: llm.maxTokens }),
        model,
        messages,
        tools: ENV_TOOLS,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming & { tools: typeof ENV_TOOLS };
      // Native tool calls, or one JSON call in the server's JSON dialect (llama.cpp): configured
      // (ANVIL_LLM_TOOL_CALLS) or probed once per server and model (tool-dialect.ts).
      const request = () =>
        completeWithTools(openai, { baseUrl, toolCalls: llm.toolCalls, responseFormat: llm.responseFormat }, body);
      const response = await (limits ? limits.run(baseUrl, request) : request());
      if (!response.choices[0]) throw new Error(`the endpoint returned no choices for model ${model}`);
      return response;
    } catch (err) {
      // As LlmClient does: Temporal retries, after what a 429 asked; a refused key or model fails for good.
      if (err instanceof OpenAI.RateLimitError) {
        const after = Number(err.headers?.get?.('retry-after'));
        throw ApplicationFailure.create({
          message: `rate limited by ${baseUrl} (429)`,
          type: 'RateLimited',
          nextRetryDelay: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
        });
      }
      if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.NotFoundError) {
        throw ApplicationFailure.nonRetryable(
          `${baseUrl} refused the request (${err.status}: ${err.message}); check ${spec?.apiKeyRef ? `the key ${spec.apiKeyRef}` : 'OPENAI_API_KEY'} and the model (${model})`,
          'LlmRefused',
        );
      }
      throw err;
    }
  }

  /**
   * The policy gives up for good, the conversation kept: an ApplicationFailure of type InvalidPolicyOutput
   * (an Error merely named so reached Temporal as type "Error", and the episode asked again 4 times).
   */
  async function invalidOutput(problems: string[], messages: Message[]): Promise<Error> {
    let kept = '';
    if (failuresDir) {
      const file = join(failuresDir, `policy-${randomUUID().slice(0, 8)}.json`);
      await mkdir(failuresDir, { recursive: true });
      await writeFile(file, JSON.stringify({ model, problems, messages }, null, 2));
      kept = `; the conversation is kept in ${file}`;
    }
    return ApplicationFailure.nonRetryable(
      `the model's tool calls were invalid ${problems.length} times (last: ${problems.at(-1)})${kept}`,
      'InvalidPolicyOutput',
    );
  }

  return {
    name: 'openai',
    async next(turns) {
      const last = turns.at(-1);
      if (!last || last.done || last.observation.done || last.observation.budget.stepsLeft <= 0) return null;
      const history = conversationOf(turns);
      const messages = await fitPolicyPrompt(server, model, history, history.length, replyTokens);
      const prompt = messages.map((m) => ({ ...m }) as TranscriptMessage);
      const attempts: TranscriptAttempt[] = [];
      const record = async (action?: Action | null) =>
        transcript?.({
          endpoint: baseUrl,
          model,
          sampling,
          messages: prompt,
          attempts,
          ...(action !== undefined ? { action } : {}),
        });
      const problems: string[] = [];
      for (let attempt = 0; attempt <= llm.outputRetries; attempt++) {
        const response = await complete(
          attempt === 0 ? messages : await fitPolicyPrompt(server, model, messages, history.length, replyTokens),
        );
        const choice = response.choices[0]!;
        const { message, finish_reason } = choice;
        const calls = message.tool_calls ?? [];
        const tokens = tokenDataOf(choice as Parameters<typeof tokenDataOf>[0]);
        attempts.push({
          message: {
            role: 'assistant',
            content: message.content,
            ...(calls.length > 0 && { tool_calls: calls as TranscriptMessage['tool_calls'] }),
          },
          finishReason: finish_reason ?? null,
          ...(response.usage && {
            promptTokens: response.usage.prompt_tokens,
            completionTokens: response.usage.completion_tokens,
          }),
          ...(tokens && { tokens }),
        });
        // An answer without a tool call ends the episode, unless the token limit cut the call off.
        if (!calls[0] && finish_reason !== 'length') {
          await record(null);
          return null;
        }
        const verdict = calls[0]
          ? actionOf(calls[0])
          : { error: 'your reply was cut off at the token limit: call the tool with a shorter script' };
        if ('action' in verdict) {
          await record(verdict.action);
          return verdict.action;
        }
        attempts.at(-1)!.rejected = verdict.error;
        problems.push(verdict.error);
        messages.push({ role: 'assistant', content: message.content, ...(calls.length > 0 && { tool_calls: calls }) });
        // Every tool call must be answered; the first carries the error, any others were never run.
        if (calls.length === 0) messages.push({ role: 'user', content: `Error: ${verdict.error}.` });
        calls.forEach((call, i) =>
          messages.push({
            role: 'tool',
            tool_call_id: call.id,
            content:
              i === 0
                ? `Error: ${verdict.error}. Nothing ran and no step was spent: call the tool again, correctly.`
                : 'Not run: only the first tool call of a reply runs.',
          }),
        );
      }
      await record();
      throw await invalidOutput(problems, messages);
    },
  };
}

/**
 * The request fields a spec's sampling settings become (OpenAI's names; extraBody merged last). Sample
 * k of a group is sent seed + k: one seed for all would give every sample of a group the same replies.
 */
function samplingOf(spec: OpenAiPolicySpec | undefined, sample = 0): Record<string, unknown> {
  if (!spec) return {};
  const fields: Record<string, unknown> = {
    temperature: spec.temperature,
    top_p: spec.topP,
    max_tokens: spec.maxTokens,
    seed: spec.seed === undefined ? undefined : spec.seed + sample,
    stop: spec.stop,
    logprobs: spec.logprobs,
  };
  const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return { ...set, ...spec.extraBody };
}

/** System prompt, the opening observation, then one tool call and its observation per action taken. */
function conversationOf(turns: PolicyTurn[]): Message[] {
  const [opening, ...taken] = turns;
  const messages: Message[] = [{ role: 'system', content: SYSTEM_PROMPT }];
  if (opening) messages.push({ role: 'user', content: openingOf(opening.observation) });
  taken.forEach((turn, i) => {
    if (!turn.action) return; // only the opening turn has no action
    const id = `call_${i + 1}`;
    messages.push({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id, type: 'function', function: { name: turn.action.action, arguments: JSON.stringify(turn.action.params) } },
      ],
    });
    messages.push({ role: 'tool', tool_call_id: id, content: JSON.stringify(compact(turn.observation)) });
  });
  return messages;
}

/** The task's description as text, then the rest of the opening observation as JSON. */
function openingOf(observation: Observation): string {
  const { description, ...facts } = observation.info ?? {};
  const rest = compact({ ...observation, ...(observation.info && { info: facts }) });
  return [
    'Solve this task.',
    typeof description === 'string' ? description : '',
    `The session's opening observation:\n${JSON.stringify(rest)}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The action a tool call asks for, or why it is not one (fed back to the model). */
function actionOf(call: ChatCompletionMessageToolCall): { action: Action } | { error: string } {
  const tools = ENV_ACTIONS.join(', ');
  if (call.type !== 'function') return { error: `a ${call.type} tool call: call one of the functions ${tools}` };
  const { name, arguments: args } = call.function;
  if (!(ENV_ACTIONS as readonly string[]).includes(name))
    return { error: `there is no tool "${name}": call one of ${tools}` };
  let params: unknown;
  try {
    params = args.trim() ? JSON.parse(args) : {}; // some servers send "" for a call without arguments
  } catch {
    return { error: `the arguments of ${name} are not JSON: ${args.slice(0, 200)}` };
  }
  const parsed = actionSchema.safeParse({ action: name, params });
  return parsed.success
    ? { action: parsed.data }
    : { error: `invalid arguments for ${name}: ${describeIssues(parsed.error)}` };
}
