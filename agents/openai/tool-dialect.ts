import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { extractJson } from './client';
import { closedSchema, dialectFor, type JsonDialect, responseFormatOf } from './dialect';

/**
 * How a server takes tool calls: `native` (OpenAI, vLLM with a tool parser) returns `tool_calls`;
 * llama.cpp's server only does when `tool_choice` names one tool, and answers in prose otherwise. There
 * the call is asked for as one JSON object `{"tool": name, "arguments": {...}}`, held by the server's JSON
 * dialect, and turned back into a `tool_calls` entry, so callers read every server the same way.
 */
export type ToolDialect = 'native' | 'json';

/** The JSON schema of one call of any of `tools`. */
export function toolCallSchema(tools: ChatCompletionTool[]): Record<string, unknown> {
  return {
    anyOf: tools
      .filter((t) => t.type === 'function')
      .map((t) => ({
        type: 'object',
        properties: {
          tool: { type: 'string', enum: [t.function.name] },
          arguments: t.function.parameters ?? { type: 'object' },
        },
        required: ['tool', 'arguments'],
      })),
  };
}

/** The tool call a `{"tool", "arguments"}` reply asks for, or undefined when the text is not one. */
export function toolCallOfText(text: string, id: string): ChatCompletion.Choice['message']['tool_calls'] {
  let value: unknown;
  try {
    value = extractJson(text);
  } catch {
    return undefined;
  }
  const call = value as { tool?: unknown; arguments?: unknown };
  if (typeof call?.tool !== 'string') return undefined;
  return [{ id, type: 'function', function: { name: call.tool, arguments: JSON.stringify(call.arguments ?? {}) } }];
}

const known = new Map<string, Promise<ToolDialect>>();

/** The configured dialect, or one probe per server and model in this process: does `tool_choice: required` call? */
export function toolDialectFor(
  openai: OpenAI,
  baseUrl: string,
  model: string,
  configured: ToolDialect | 'auto',
): Promise<ToolDialect> {
  if (configured !== 'auto') return Promise.resolve(configured);
  const key = `${baseUrl.replace(/\/+$/, '')} ${model}`;
  let dialect = known.get(key);
  if (!dialect) {
    dialect = openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'Call the tool ok.' }],
        tools: [{ type: 'function', function: { name: 'ok', parameters: { type: 'object', properties: {} } } }],
        tool_choice: 'required',
        max_tokens: 16,
        temperature: 0,
      })
      .then(
        (r): ToolDialect => (r.choices[0]?.message.tool_calls?.length ? 'native' : 'json'),
        (err: unknown): ToolDialect => {
          if ((err as { status?: number }).status === undefined) throw err; // the server is down: ask again later
          return 'json'; // a server that refuses `required` or tools altogether
        },
      );
    known.set(key, dialect);
    dialect.catch(() => known.delete(key));
  }
  return dialect;
}

/**
 * A message of a native tool conversation as a `json` server takes it: an assistant's calls as the JSON
 * it would have written, a tool's answer as a user message (llama-cpp-python refuses an assistant
 * message whose content is null, and a template without tools may not render the tool role).
 */
function asText(message: ChatCompletionMessageParam): ChatCompletionMessageParam {
  if (message.role === 'assistant' && message.tool_calls?.length) {
    const calls = message.tool_calls.flatMap((c) =>
      c.type === 'function'
        ? [`{"tool": ${JSON.stringify(c.function.name)}, "arguments": ${c.function.arguments || '{}'}}`]
        : [],
    );
    return { role: 'assistant', content: calls.join('\n') };
  }
  if (message.role === 'assistant' && message.content == null) return { ...message, content: '' };
  if (message.role === 'tool')
    return {
      role: 'user',
      content: `The tool answered:\n${typeof message.content === 'string' ? message.content : JSON.stringify(message.content)}`,
    };
  return message;
}

/**
 * One chat completion with `body.tools`, through the server's tool dialect: the response as the server
 * sent it (usage, log-probs and all), with `tool_calls` filled in from the JSON reply on `json` servers.
 */
export async function completeWithTools(
  openai: OpenAI,
  server: { baseUrl: string; toolCalls: ToolDialect | 'auto'; responseFormat: JsonDialect | 'auto' },
  body: ChatCompletionCreateParamsNonStreaming & { tools: ChatCompletionTool[] },
): Promise<ChatCompletion> {
  if ((await toolDialectFor(openai, server.baseUrl, body.model, server.toolCalls)) === 'native')
    return openai.chat.completions.create(body);
  const { tools, ...rest } = body;
  delete rest.tool_choice; // the JSON reply is the choice
  const json = await dialectFor(openai, server.baseUrl, body.model, server.responseFormat);
  const schema = closedSchema(toolCallSchema(tools)) as Record<string, unknown>;
  const names = tools.map((t) => (t.type === 'function' ? t.function.name : t.type)).join(', ');
  const response = await openai.chat.completions.create({
    ...rest,
    messages: [
      ...body.messages.map(asText),
      {
        role: 'user',
        content:
          `Call one tool (${names}) by replying with JSON only: {"tool": <name>, "arguments": {...}}` +
          (json === 'text' ? `, matching this JSON schema:\n${JSON.stringify(schema)}` : '.'),
      },
    ],
    ...(responseFormatOf(json, 'tool_call', schema) as object),
  });
  for (const choice of response.choices) {
    const calls = toolCallOfText(choice.message.content ?? '', `call_${response.id}_${choice.index}`);
    if (!calls) continue;
    choice.message.tool_calls = calls;
    if (choice.finish_reason === 'stop') choice.finish_reason = 'tool_calls';
  }
  return response;
}
