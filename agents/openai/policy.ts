import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
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
import { compact, ENV_TOOLS } from '../../domain/sft';
import type { Policy } from '../policy';
import type { Message } from './client';

const SYSTEM_PROMPT = readFileSync(join(__dirname, 'prompts', 'policy.md'), 'utf8');

/**
 * An LLM agent over any OpenAI-compatible endpoint: the five environment actions are its tools.
 * It keeps no state between calls (it runs as a Temporal activity, retried anywhere): each call
 * rebuilds the conversation from the turns, so the same turns always send the same messages.
 */
export function createOpenAiPolicy({ llm, failuresDir }: { llm: AnvilConfig['llm']; failuresDir?: string }): Policy {
  const openai = new OpenAI({
    baseURL: llm.baseUrl,
    apiKey: llm.apiKey ?? 'none',
    timeout: llm.timeoutS * 1000,
    maxRetries: 0,
  });
  const model = llm.models.policy ?? llm.model;

  async function complete(messages: Message[]): Promise<ChatCompletion.Choice> {
    try {
      const response = await openai.chat.completions.create({ model, messages, tools: ENV_TOOLS });
      const choice = response.choices[0];
      if (!choice) throw new Error(`the endpoint returned no choices for model ${model}`);
      return choice;
    } catch (err) {
      // As LlmClient does: Temporal retries, after what a 429 asked; a refused key or model fails for good.
      if (err instanceof OpenAI.RateLimitError) {
        const after = Number(err.headers?.get?.('retry-after'));
        throw ApplicationFailure.create({
          message: `rate limited by ${llm.baseUrl} (429)`,
          type: 'RateLimited',
          nextRetryDelay: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
        });
      }
      if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.NotFoundError) {
        throw ApplicationFailure.nonRetryable(
          `${llm.baseUrl} refused the request (${err.status}: ${err.message}); check OPENAI_API_KEY and ANVIL_MODEL_POLICY (${model})`,
          'LlmRefused',
        );
      }
      throw err;
    }
  }

  /** The policy gives up: an Error named InvalidPolicyOutput (the episode does not retry it), the conversation kept. */
  async function invalidOutput(problems: string[], messages: Message[]): Promise<Error> {
    let kept = '';
    if (failuresDir) {
      const file = join(failuresDir, `policy-${randomUUID().slice(0, 8)}.json`);
      await mkdir(failuresDir, { recursive: true });
      await writeFile(file, JSON.stringify({ model, problems, messages }, null, 2));
      kept = `; the conversation is kept in ${file}`;
    }
    const error = new Error(
      `the model's tool calls were invalid ${problems.length} times (last: ${problems.at(-1)})${kept}`,
    );
    error.name = 'InvalidPolicyOutput';
    return error;
  }

  return {
    name: 'openai',
    async next(turns) {
      const last = turns.at(-1);
      if (!last || last.done || last.observation.done || last.observation.budget.stepsLeft <= 0) return null;
      const messages = conversationOf(turns);
      const problems: string[] = [];
      for (let attempt = 0; attempt <= llm.outputRetries; attempt++) {
        const { message, finish_reason } = await complete(messages);
        const calls = message.tool_calls ?? [];
        // An answer without a tool call ends the episode, unless the token limit cut the call off.
        if (!calls[0] && finish_reason !== 'length') return null;
        const verdict = calls[0]
          ? actionOf(calls[0])
          : { error: 'your reply was cut off at the token limit: call the tool with a shorter script' };
        if ('action' in verdict) return verdict.action;
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
      throw await invalidOutput(problems, messages);
    },
  };
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
