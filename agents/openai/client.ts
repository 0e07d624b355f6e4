import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { AnvilConfig } from '../../config';
import { NO_USAGE, type Usage } from '../../domain/usage';
import { contextWindow, promptTokens, replyReserve } from './context';
import { closedSchema, dialectFor, downgrade, type JsonDialect, refusesFormat, responseFormatOf } from './dialect';

export type Message = ChatCompletionMessageParam;

/** The outcome of one structured call: a validated value, or the tool calls the model asked for. */
export type Reply<T> =
  | { kind: 'value'; value: T; messages: Message[] }
  | { kind: 'tools'; calls: { id: string; name: string; arguments: string }[]; messages: Message[] };

/**
 * The JSON in a reply: the whole reply when it is JSON (its strings may hold ``` fences of their
 * own), else a fenced ```json block, else the outermost braces or brackets.
 */
export function extractJson(text: string): unknown {
  const attempts = [text.trim()];
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n```/.exec(text);
  if (fenced) attempts.push(fenced[1]!.trim());
  const start = text.search(/[[{]/);
  if (start >= 0) attempts.push(text.slice(start, text.lastIndexOf(text[start] === '{' ? '}' : ']') + 1));
  for (const candidate of attempts) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next reading
    }
  }
  throw new Error(start < 0 ? 'no JSON object in the reply' : "the reply's JSON does not parse");
}

/**
 * The OpenAI SDK client for `llm`, with `llm.timeoutS` as the only time limit: Node's fetch gives up
 * after 300 s without response headers whatever the SDK's timeout, which failed every slow reply
 * (a small model on a busy CPU, a long generation) as "Request timed out."
 */
export function openAiClient(llm: Pick<AnvilConfig['llm'], 'baseUrl' | 'apiKey' | 'timeoutS'>): OpenAI {
  const limit = llm.timeoutS * 1000;
  return new OpenAI({
    baseURL: llm.baseUrl,
    apiKey: llm.apiKey ?? 'none',
    timeout: limit,
    maxRetries: 0,
    fetch: undiciFetch as unknown as typeof fetch,
    fetchOptions: { dispatcher: new Agent({ headersTimeout: limit, bodyTimeout: limit }) } as object,
  });
}

/** What one completion cost and how it ended: for usage, the context check and the call log. */
export interface CallRecord {
  role: string;
  dialect: JsonDialect;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
  finishReason: string | null;
  /** whether the reply was accepted (a validated value or tool calls) */
  valid: boolean;
  /** 0 for the first ask, n for the n-th re-ask after an invalid reply */
  reask: number;
}

type Role = keyof AnvilConfig['llm']['models'];

/**
 * One OpenAI-compatible endpoint. Retries of failed requests belong to Temporal (the client
 * itself never retries); a 429 becomes a retryable failure that waits what the server asked.
 * The server's JSON dialect comes from `llm.responseFormat` or one probe per model (dialect.ts);
 * every prompt is measured against the model's context window before it is sent (context.ts).
 */
export class LlmClient {
  readonly usage: Usage = { ...NO_USAGE };
  /** every completion this client asked for, in order */
  readonly calls: CallRecord[] = [];
  private readonly openai: OpenAI;

  constructor(
    private readonly config: AnvilConfig['llm'],
    private readonly failuresDir: string,
  ) {
    this.openai = openAiClient(config);
  }

  modelFor(role: Role): string {
    return this.config.models[role] ?? this.config.model;
  }

  /**
   * Asks until the reply validates against `schema`, feeding each validation error back, at most
   * `outputRetries` more times; then fails for good, keeping the raw replies for inspection.
   */
  async structured<T>(
    role: Role,
    schema: z.ZodType<T>,
    messages: Message[],
    tools?: ChatCompletionTool[],
  ): Promise<Reply<T>> {
    const conversation = [...messages];
    const raw: string[] = [];
    let lastError = '';
    for (let attempt = 0; attempt <= this.config.outputRetries; attempt++) {
      const { message, finishReason } = await this.complete(
        role,
        schema,
        await this.fit(role, conversation, messages.length),
        tools,
        attempt,
      );
      const record = this.calls.at(-1)!;
      conversation.push(message as Message);
      const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
      if (calls.length > 0) {
        record.valid = true;
        return {
          kind: 'tools',
          calls: calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
          messages: conversation,
        };
      }
      const text = message.content ?? '';
      raw.push(text);
      try {
        const parsed = schema.safeParse(extractJson(text));
        if (parsed.success) {
          record.valid = true;
          return { kind: 'value', value: parsed.data, messages: conversation };
        }
        lastError = z.prettifyError(parsed.error);
      } catch (err) {
        lastError = (err as Error).message;
        if (finishReason === 'length')
          lastError = `your reply was cut off at the token limit before its JSON ended (${lastError}): reply with shorter JSON`;
      }
      conversation.push({
        role: 'user',
        content: `Your reply does not match the required JSON schema:\n${lastError}\nReply again with the corrected JSON only.`,
      });
    }
    const file = join(this.failuresDir, `${role}-${randomUUID().slice(0, 8)}.json`);
    await mkdir(this.failuresDir, { recursive: true });
    await writeFile(file, JSON.stringify({ role, error: lastError, replies: raw, messages: conversation }, null, 2));
    throw ApplicationFailure.nonRetryable(
      `the ${role}'s output failed its schema ${raw.length} times (last: ${lastError.split('\n')[0]}); the raw replies are kept in ${file}`,
      'InvalidRoleOutput',
    );
  }

  /**
   * The conversation as it fits the model's context window with room for the reply: earlier invalid
   * replies are left out first (with a note saying so); a prompt that still does not fit fails for good.
   */
  private async fit(role: Role, conversation: Message[], opening: number): Promise<Message[]> {
    const model = this.modelFor(role);
    const window = await contextWindow(this.config, model);
    if (!window) return conversation; // unknown: the server's own refusal is turned into PromptTooLong
    const budget = window - replyReserve(this.config, window);
    let sent = conversation;
    let size = await promptTokens(this.config, model, sent);
    const reasks = (conversation.length - opening) / 2; // assistant reply + feedback per re-ask
    if (size.tokens > budget && reasks > 1) {
      const dropped = reasks - 1;
      sent = [
        ...conversation.slice(0, opening),
        {
          role: 'user',
          content: `(${dropped} earlier invalid replies and their errors are left out to fit the context window.)`,
        },
        ...conversation.slice(-2),
      ];
      size = await promptTokens(this.config, model, sent);
    }
    if (size.tokens > budget)
      throw ApplicationFailure.nonRetryable(
        `the ${role}'s prompt takes ${size.tokens} tokens${size.measured ? '' : ' (estimated)'}, more than the ${budget} that ` +
          `${model}'s ${window}-token context window leaves beside ${window - budget} for the reply; use a model with a ` +
          'longer context (ANVIL_LLM_CONTEXT_TOKENS says how long), a lower ANVIL_LLM_MAX_TOKENS, or a dataset with fewer columns',
        'PromptTooLong',
      );
    return sent;
  }

  private async complete(
    role: Role,
    schema: z.ZodType,
    messages: Message[],
    tools: ChatCompletionTool[] | undefined,
    reask: number,
  ): Promise<{ message: ChatCompletionMessage; finishReason: string | null }> {
    const model = this.modelFor(role);
    const jsonSchema = closedSchema(z.toJSONSchema(schema)) as Record<string, unknown>;
    let dialect = await dialectFor(this.openai, this.config.baseUrl, model, this.config.responseFormat);
    for (;;) {
      const sent: Message[] =
        dialect === 'text'
          ? [
              ...messages,
              {
                role: 'user',
                content: `Reply with JSON only, matching this JSON schema:\n${JSON.stringify(jsonSchema)}`,
              },
            ]
          : messages;
      const started = Date.now();
      try {
        const response = await this.openai.chat.completions.create({
          model,
          messages: sent,
          ...(tools?.length ? { tools } : {}),
          ...(this.config.maxTokens ? { max_tokens: this.config.maxTokens } : {}),
          ...(responseFormatOf(dialect, `${role}_output`, jsonSchema) as object),
        });
        this.count(response.usage);
        const choice = response.choices[0];
        if (!choice) throw new Error(`the endpoint returned no choices for model ${model}`);
        this.calls.push({
          role,
          dialect,
          promptTokens: response.usage?.prompt_tokens ?? 0,
          completionTokens: response.usage?.completion_tokens ?? 0,
          seconds: (Date.now() - started) / 1000,
          finishReason: choice.finish_reason ?? null,
          valid: false,
          reask,
        });
        return { message: choice.message, finishReason: choice.finish_reason ?? null };
      } catch (err) {
        if (dialect !== 'text' && this.config.responseFormat === 'auto' && refusesFormat(err) && !overflows(err)) {
          dialect = downgrade(this.config.baseUrl, model, dialect)!; // this server does not speak it after all
          continue;
        }
        throw this.failure(err, role, model);
      }
    }
  }

  /** What Temporal should do with a failed request. */
  private failure(err: unknown, role: Role, model: string): unknown {
    if (overflows(err))
      return ApplicationFailure.nonRetryable(
        `${this.config.baseUrl} refused the ${role}'s prompt as longer than ${model}'s context window ` +
          `(${(err as Error).message}); use a model with a longer context, or set ANVIL_LLM_CONTEXT_TOKENS so Anvil checks first`,
        'PromptTooLong',
      );
    if (err instanceof OpenAI.RateLimitError) {
      const after = Number(err.headers?.get?.('retry-after'));
      return ApplicationFailure.create({
        message: `rate limited by ${this.config.baseUrl} (429)`,
        type: 'RateLimited',
        nextRetryDelay: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      });
    }
    if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.NotFoundError) {
      return ApplicationFailure.nonRetryable(
        `${this.config.baseUrl} refused the request (${err.status}: ${err.message}); check OPENAI_API_KEY and ANVIL_MODEL (${model})`,
        'LlmRefused',
      );
    }
    return err; // timeouts, connection errors, 5xx: retried by Temporal's policy
  }

  private count(usage?: { prompt_tokens?: number; completion_tokens?: number } | null): void {
    const p = usage?.prompt_tokens ?? 0;
    const c = usage?.completion_tokens ?? 0;
    this.usage.promptTokens += p;
    this.usage.completionTokens += c;
    this.usage.costUsd += (p * this.config.pricePerMTokIn + c * this.config.pricePerMTokOut) / 1e6;
  }
}

/** A server's answer that the prompt does not fit its context window (OpenAI, vLLM, llama.cpp wordings). */
function overflows(err: unknown): boolean {
  return (
    err instanceof OpenAI.APIError &&
    err.status === 400 &&
    /context (length|window)|maximum context|exceeds? (the )?(available )?context|too many tokens/i.test(err.message)
  );
}
