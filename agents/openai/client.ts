import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { AnvilConfig } from '../../config';
import { NO_USAGE, type Usage } from '../../domain/usage';

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
 * One OpenAI-compatible endpoint. Retries of failed requests belong to Temporal (the client
 * itself never retries); a 429 becomes a retryable failure that waits what the server asked.
 */
export class LlmClient {
  readonly usage: Usage = { ...NO_USAGE };
  private readonly openai: OpenAI;
  /** servers that reject `response_format: json_schema` get JSON-in-text instructions instead */
  private jsonSchema = true;

  constructor(
    private readonly config: AnvilConfig['llm'],
    private readonly failuresDir: string,
  ) {
    this.openai = new OpenAI({
      baseURL: config.baseUrl,
      apiKey: config.apiKey ?? 'none',
      timeout: config.timeoutS * 1000,
      maxRetries: 0,
    });
  }

  modelFor(role: keyof AnvilConfig['llm']['models']): string {
    return this.config.models[role] ?? this.config.model;
  }

  /**
   * Asks until the reply validates against `schema`, feeding each validation error back, at most
   * `outputRetries` more times; then fails for good, keeping the raw replies for inspection.
   */
  async structured<T>(
    role: keyof AnvilConfig['llm']['models'],
    schema: z.ZodType<T>,
    messages: Message[],
    tools?: ChatCompletionTool[],
  ): Promise<Reply<T>> {
    const conversation = [...messages];
    const raw: string[] = [];
    let lastError = '';
    for (let attempt = 0; attempt <= this.config.outputRetries; attempt++) {
      const message = await this.complete(role, schema, conversation, tools);
      conversation.push(message as Message);
      const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
      if (calls.length > 0)
        return {
          kind: 'tools',
          calls: calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
          messages: conversation,
        };
      const text = message.content ?? '';
      raw.push(text);
      try {
        const parsed = schema.safeParse(extractJson(text));
        if (parsed.success) return { kind: 'value', value: parsed.data, messages: conversation };
        lastError = z.prettifyError(parsed.error);
      } catch (err) {
        lastError = (err as Error).message;
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

  private async complete(
    role: keyof AnvilConfig['llm']['models'],
    schema: z.ZodType,
    messages: Message[],
    tools?: ChatCompletionTool[],
  ): Promise<ChatCompletionMessage> {
    const model = this.modelFor(role);
    const format = this.jsonSchema
      ? {
          response_format: {
            type: 'json_schema' as const,
            json_schema: { name: `${role}_output`, schema: z.toJSONSchema(schema) as Record<string, unknown> },
          },
        }
      : {};
    const withSchemaHint: Message[] = this.jsonSchema
      ? messages
      : [
          ...messages,
          {
            role: 'user',
            content: `Reply with JSON only, matching this JSON schema:\n${JSON.stringify(z.toJSONSchema(schema))}`,
          },
        ];
    try {
      const response = await this.openai.chat.completions.create({
        model,
        messages: withSchemaHint,
        ...(tools?.length ? { tools } : {}),
        ...format,
      });
      this.count(response.usage);
      const choice = response.choices[0];
      if (!choice) throw new Error(`the endpoint returned no choices for model ${model}`);
      return choice.message;
    } catch (err) {
      if (
        err instanceof OpenAI.BadRequestError &&
        this.jsonSchema &&
        /response_format|json_schema/i.test(err.message)
      ) {
        this.jsonSchema = false; // this server has no structured outputs: ask for JSON in text
        return this.complete(role, schema, messages, tools);
      }
      if (err instanceof OpenAI.RateLimitError) {
        const after = Number(err.headers?.get?.('retry-after'));
        throw ApplicationFailure.create({
          message: `rate limited by ${this.config.baseUrl} (429)`,
          type: 'RateLimited',
          nextRetryDelay: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
        });
      }
      if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.NotFoundError) {
        throw ApplicationFailure.nonRetryable(
          `${this.config.baseUrl} refused the request (${err.status}: ${err.message}); check OPENAI_API_KEY and ANVIL_MODEL (${model})`,
          'LlmRefused',
        );
      }
      throw err; // timeouts, connection errors, 5xx: retried by Temporal's policy
    }
  }

  private count(usage?: { prompt_tokens?: number; completion_tokens?: number } | null): void {
    const p = usage?.prompt_tokens ?? 0;
    const c = usage?.completion_tokens ?? 0;
    this.usage.promptTokens += p;
    this.usage.completionTokens += c;
    this.usage.costUsd += (p * this.config.pricePerMTokIn + c * this.config.pricePerMTokOut) / 1e6;
  }
}
