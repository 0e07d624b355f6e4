import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { completeWithTools, toolCallOfText, toolCallSchema } from '../agents/openai/tool-dialect';
import { closedSchema } from '../agents/openai/dialect';
import { ENV_TOOLS } from '../domain/sft';
import { type ChatRequest, type Script, type ScriptedLlm, startScriptedLlm } from './helpers/scripted-llm';

let server: ScriptedLlm | undefined;
afterEach(() => server?.close());

async function call(script: Script) {
  server = await startScriptedLlm(script, { probes: 'script' });
  const openai = new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 });
  const response = await completeWithTools(
    openai,
    { baseUrl: server.url, toolCalls: 'auto', responseFormat: 'auto' },
    { model: 'm', messages: [{ role: 'user', content: 'solve it' }], tools: ENV_TOOLS, temperature: 0.7 },
  );
  return { response, requests: server.requests };
}

const isProbe = (r: ChatRequest) => r.messages[0]?.content === 'Call the tool ok.';
const isJsonProbe = (r: ChatRequest) => r.messages[0]?.content?.startsWith('Reply with this JSON');

describe('tool calls through the server’s dialect', () => {
  it('passes tools through to a server that calls them natively', async () => {
    const { response, requests } = await call((req) =>
      req.tools?.length
        ? { toolCalls: [{ id: 'c1', name: isProbe(req) ? 'ok' : 'request_info', arguments: '{}' }] }
        : { content: 'no' },
    );
    expect(response.choices[0]!.message.tool_calls![0]).toMatchObject({ function: { name: 'request_info' } });
    expect(requests.map((r) => r.tools?.length)).toEqual([1, ENV_TOOLS.length]); // the probe, then the call
  });

  it('asks llama.cpp-like servers for one JSON call in their JSON dialect and returns it as tool_calls', async () => {
    const { response, requests } = await call((req) => {
      if (req.response_format?.type === 'json_schema')
        return { status: 500, error: "Input should be 'text' or 'json_object'" };
      if (isJsonProbe(req)) return { content: '{"ok": true}' };
      if (req.tools?.length) return { content: 'What?' }; // tools without a named tool_choice: prose
      return { content: '{"tool": "execute_code", "arguments": {"code": "print(1)"}}' };
    });
    const [probe, ...rest] = requests;
    expect(isProbe(probe!)).toBe(true);
    const sent = rest.at(-1)! as ChatRequest & { temperature?: number };
    expect(sent.tools).toBeUndefined();
    expect(sent.temperature).toBe(0.7);
    expect(sent.response_format).toMatchObject({
      type: 'json_object',
      schema: closedSchema(toolCallSchema(ENV_TOOLS)),
    });
    expect(sent.messages.at(-1)!.content).toMatch(/^Call one tool \(request_info, validate_code, execute_code/);
    expect(response.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        tool_calls: [{ type: 'function', function: { name: 'execute_code', arguments: '{"code":"print(1)"}' } }],
      },
    });
    expect(response.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 50 });
  });

  it('sends earlier native tool calls to a json server as the JSON it would have written, never null content', async () => {
    server = await startScriptedLlm(
      (req) => {
        if (req.response_format?.type === 'json_schema') return { status: 500, error: 'json_object only' };
        if (isJsonProbe(req)) return { content: '{"ok": true}' };
        if (req.tools?.length) return { content: 'What?' };
        return { content: '{"tool": "get_history", "arguments": {}}' };
      },
      { probes: 'script' },
    );
    const openai = new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 });
    await completeWithTools(
      openai,
      { baseUrl: server.url, toolCalls: 'auto', responseFormat: 'auto' },
      {
        model: 'm2',
        tools: ENV_TOOLS,
        messages: [
          { role: 'user', content: 'solve it' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'request_info', arguments: '{"kind":"data"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '{"rows": 150}' },
        ],
      },
    );
    const sent = server.requests.at(-1)!.messages;
    expect(sent.slice(0, 3)).toEqual([
      { role: 'user', content: 'solve it' },
      { role: 'assistant', content: '{"tool": "request_info", "arguments": {"kind":"data"}}' },
      { role: 'user', content: 'The tool answered:\n{"rows": 150}' },
    ]);
  });

  it('leaves a reply that is not a call as text, for the caller to re-ask', () => {
    expect(toolCallOfText('I would train a forest.', 'c')).toBeUndefined();
    expect(toolCallOfText('{"arguments": {}}', 'c')).toBeUndefined();
    expect(toolCallOfText('```json\n{"tool": "get_history", "arguments": {}}\n```', 'c')).toEqual([
      { id: 'c', type: 'function', function: { name: 'get_history', arguments: '{}' } },
    ]);
  });
});
