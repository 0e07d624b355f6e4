import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brainstorm } from '../../agents/heuristic/brainstormer';
import { design } from '../../agents/heuristic/designer';
import { refactor } from '../../agents/heuristic/refactorer';
import { review } from '../../agents/heuristic/reviewer';
import type { Design } from '../../agents/roles';
import type { DatasetProfile } from '../../domain/profile';
import type { CheckResult } from '../../domain/verification';

export interface ChatRequest {
  model: string;
  /** sampling fields as sent (temperature, top_p, max_tokens, seed, stop, logprobs, extra body keys) */
  [field: string]: unknown;
  messages: { role: string; content?: string | null; tool_call_id?: string; tool_calls?: unknown[] }[];
  response_format?: { type: string; json_schema?: { name: string; schema: unknown }; schema?: unknown };
  tools?: { function: { name: string } }[];
}

export interface ScriptedReply {
  content?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** an HTTP error instead of a completion */
  status?: number;
  error?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  /** sampled tokens as `token_id:<n>` with log-probs, sent when the request asked for logprobs */
  logprobs?: { tokenIds: number[]; logprobs: number[] };
  /** unset: `tool_calls` or `stop` */
  finishReason?: string;
}

export type Script = (request: ChatRequest, index: number) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedLlm {
  /** base URL, as OPENAI_BASE_URL */
  url: string;
  requests: ChatRequest[];
  /** the Authorization header of each request, in order */
  authorizations: string[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

/** The tool-dialect probe (agents/openai/tool-dialect.ts): one tool, `tool_choice: required`. */
const isToolProbe = (request: ChatRequest) =>
  request.messages.length === 1 && request.messages[0]!.content === 'Call the tool ok.';

/**
 * A local OpenAI-compatible server: records every request and answers from `script`. Like OpenAI it
 * calls tools natively, so it answers the tool-dialect probe itself (unrecorded) unless `probes: 'script'`.
 */
export async function startScriptedLlm(
  script: Script,
  { probes = 'answer' }: { probes?: 'answer' | 'script' } = {},
): Promise<ScriptedLlm> {
  const requests: ChatRequest[] = [];
  const authorizations: string[] = [];
  const server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data: [{ id: 'scripted', object: 'model' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    const request = JSON.parse(await body(req)) as ChatRequest;
    if (probes === 'answer' && isToolProbe(request)) {
      const call = { id: 'probe', type: 'function', function: { name: 'ok', arguments: '{}' } };
      const message = { role: 'assistant', content: null, tool_calls: [call] };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: 'probe', object: 'chat.completion', choices: [{ index: 0, message }] }));
      return;
    }
    requests.push(request);
    authorizations.push(req.headers.authorization ?? '');
    const reply = await script(request, requests.length - 1);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    if (reply.status) {
      res
        .writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
        .end(JSON.stringify({ error: { message: reply.error ?? `scripted ${reply.status}`, type: 'scripted' } }));
      return;
    }
    const toolCalls = reply.toolCalls?.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [
          {
            index: 0,
            finish_reason: reply.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
            ...(request.logprobs === true && reply.logprobs
              ? {
                  logprobs: {
                    content: reply.logprobs.tokenIds.map((id, i) => ({
                      token: `token_id:${id}`,
                      logprob: reply.logprobs!.logprobs[i],
                      bytes: null,
                      top_logprobs: [],
                    })),
                  },
                }
              : {}),
            message: {
              role: 'assistant',
              content: reply.content ?? null,
              ...(toolCalls ? { tool_calls: toolCalls } : {}),
            },
          },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    authorizations,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The role a request is for, from its system prompt ("You are the Designer of Anvil…"). */
export function roleOf(request: ChatRequest): string {
  return /You are the (\w+)/.exec(request.messages[0]?.content ?? '')?.[1]?.toLowerCase() ?? 'unknown';
}

/** The JSON the role was sent (the first user message). */
export function sentTo(request: ChatRequest): Record<string, unknown> {
  return JSON.parse(request.messages.find((m) => m.role === 'user')!.content!) as Record<string, unknown>;
}

/**
 * A stand-in model that answers every role by applying Anvil's heuristic rules to what it was
 * sent, as a competent model would: enough to drive whole forges through the openai provider.
 */
export function heuristicAnswer(request: ChatRequest): ScriptedReply {
  const input = sentTo(request);
  const profile = input.profile as DatasetProfile;
  switch (roleOf(request)) {
    case 'brainstormer':
      return { content: JSON.stringify({ proposals: brainstorm({ profile, maxTasks: input.maxTasks as number }) }) };
    case 'designer': {
      const failed = (input.failedChecks as (CheckResult & { evidence: string })[] | undefined)?.map((c) => ({
        ...c,
        evidence: safeJson(c.evidence),
      }));
      const previous = input.previousFiles
        ? { design: { files: input.previousFiles, notes: input.previousNotes } as Design, failed: failed ?? [] }
        : undefined;
      return {
        content: JSON.stringify(
          design({ profile, proposal: input.proposal as never, round: input.round as number, previous }),
        ),
      };
    }
    case 'refactorer':
      return { content: JSON.stringify({ files: refactor(input.files as Record<string, string>) }) };
    case 'reviewer':
      return {
        content: `Here is my review:\n\`\`\`json\n${JSON.stringify({ checks: review({ ...(input as object as Parameters<typeof review>[0]), profile: { columns: [], leakageSuspects: input.leakageSuspects } as never }) })}\n\`\`\``,
      };
    default:
      return { status: 400, error: 'unknown role' };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
