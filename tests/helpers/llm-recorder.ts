import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch } from 'undici';

/** One chat completion that passed through the recorder. */
export interface RecordedCall {
  /** from the system prompt ("You are the Designer of Anvil"), `policy` for the Dojo agent, `probe` for dialect probes */
  role: string;
  /** the client's re-ask after an invalid reply (it feeds back the error: a role's schema error, the policy's "Error: …") */
  reask: boolean;
  responseFormat?: string;
  status: number;
  seconds: number;
  promptTokens: number;
  completionTokens: number;
  finishReason?: string;
  /** the reply's text (or its tool calls as JSON) */
  reply: string;
  request: Record<string, unknown>;
}

export interface LlmRecorder {
  /** base URL, as OPENAI_BASE_URL */
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type Msg = { role: string; content?: string | null };

/** An error fed back to the model: a role's schema error, or the policy's refused tool call. */
const FEEDBACK = /does not match the required JSON schema|^Error: /;
/** How many errors a request feeds back (0 for a first ask). */
export const feedbackIn = (request: Record<string, unknown>) =>
  (request.messages as Msg[]).filter((m) => (m.role === 'user' || m.role === 'tool') && FEEDBACK.test(m.content ?? ''))
    .length;

function roleOf(messages: Msg[]): string {
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  if (/^You are the (\w+) of Anvil/.test(system)) return /^You are the (\w+)/.exec(system)![1]!.toLowerCase();
  if (system.includes("Anvil's Dojo")) return 'policy';
  const only = messages.length === 1 ? messages[0]!.content : undefined;
  return only?.startsWith('Reply with this JSON') || only === 'Call the tool ok.' ? 'probe' : 'unknown';
}

/**
 * A pass-through in front of an OpenAI-compatible server that records every chat completion: which
 * role asked, whether it was a re-ask, how long the server took and the tokens it reported. Tests
 * and bench/llm read the model's behaviour from outside, without touching the client.
 */
export async function startLlmRecorder(target: string): Promise<LlmRecorder> {
  const calls: RecordedCall[] = [];
  const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 }); // the client behind it keeps the time limit
  const upstream = new URL(target.replace(/\/+$/, ''));
  const server = createServer(async (req, res) => {
    const payload = await body(req);
    const started = Date.now();
    const url = `${upstream.origin}${req.url}`;
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, {
        dispatcher: patient,
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(payload.length ? { body: payload } : {}),
      });
    } catch (err) {
      res.writeHead(502).end(String(err));
      return;
    }
    const text = await response.text();
    res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json' });
    res.end(text);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return;
    const request = JSON.parse(payload.toString()) as Record<string, unknown> & { messages: Msg[] };
    let reply: {
      choices?: { finish_reason?: string; message?: { content?: string | null; tool_calls?: unknown[] } }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    } = {};
    try {
      reply = JSON.parse(text) as typeof reply;
    } catch {
      // an error page: recorded with its status
    }
    const choice = reply.choices?.[0];
    calls.push({
      role: roleOf(request.messages),
      reask: feedbackIn(request) > 0,
      responseFormat: (request.response_format as { type?: string } | undefined)?.type,
      status: response.status,
      seconds: (Date.now() - started) / 1000,
      promptTokens: reply.usage?.prompt_tokens ?? 0,
      completionTokens: reply.usage?.completion_tokens ?? 0,
      finishReason: choice?.finish_reason,
      reply: choice?.message?.tool_calls?.length
        ? JSON.stringify(choice.message.tool_calls)
        : (choice?.message?.content ?? text.slice(0, 2000)),
      request,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
