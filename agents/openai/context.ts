import type { AnvilConfig } from '../../config';
import type { Message } from './client';

/**
 * The model's context window, and what a prompt takes of it. Counting asks the server's tokenizer
 * (llama-cpp-python `/extras/tokenize/count`, vLLM `/tokenize`, llama.cpp `/tokenize`); a server
 * without one gets a cautious estimate (3 characters a token), marked as such.
 */
const windows = new Map<string, Promise<number | undefined>>();
const tokenizers = new Map<string, Tokenizer | null>();

type Tokenizer = (root: string, model: string, text: string, messages: Message[]) => Promise<number | undefined>;

const rootOf = (baseUrl: string) => baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
/** the chat template's tokens around each message, roughly */
const PER_MESSAGE = 6;

async function post(url: string, body: unknown): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  if (!response?.ok) return undefined;
  return (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
}

const TOKENIZERS: Tokenizer[] = [
  async (root, model, text) => num((await post(`${root}/extras/tokenize/count`, { model, input: text }))?.count),
  async (root, model, _text, messages) => num((await post(`${root}/tokenize`, { model, messages }))?.count),
  async (root, _model, text) => {
    const tokens = (await post(`${root}/tokenize`, { content: text }))?.tokens;
    return Array.isArray(tokens) ? tokens.length : undefined;
  },
];

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function textOf(messages: Message[]): string {
  return messages
    .map((m) => {
      const calls = 'tool_calls' in m && m.tool_calls ? JSON.stringify(m.tool_calls) : '';
      const content = typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');
      return `${m.role}\n${content}${calls}`;
    })
    .join('\n');
}

/** Tokens `messages` take as a prompt, and whether the server's tokenizer counted them. */
export async function promptTokens(
  llm: AnvilConfig['llm'],
  model: string,
  messages: Message[],
): Promise<{ tokens: number; measured: boolean }> {
  const root = rootOf(llm.baseUrl);
  const text = textOf(messages);
  const overhead = PER_MESSAGE * messages.length;
  const known = tokenizers.get(root);
  for (const tokenizer of known === undefined ? TOKENIZERS : known ? [known] : []) {
    const count = await tokenizer(root, model, text, messages);
    if (count !== undefined) {
      tokenizers.set(root, tokenizer);
      // vLLM counts the whole chat with its template; the others count the bare text
      return { tokens: count + (tokenizer === TOKENIZERS[1] ? 0 : overhead), measured: true };
    }
  }
  tokenizers.set(root, null);
  return { tokens: Math.ceil(text.length / 3) + overhead, measured: false };
}

/** The context window in tokens: the configured one, else what the server's /models says, else unknown. */
export function contextWindow(llm: AnvilConfig['llm'], model: string): Promise<number | undefined> {
  if (llm.contextTokens) return Promise.resolve(llm.contextTokens);
  const key = `${llm.baseUrl} ${model}`;
  let window = windows.get(key);
  if (!window) {
    window = fromModels(llm, model);
    windows.set(key, window);
  }
  return window;
}

async function fromModels(llm: AnvilConfig['llm'], model: string): Promise<number | undefined> {
  const response = await fetch(`${llm.baseUrl.replace(/\/+$/, '')}/models`, {
    headers: { authorization: `Bearer ${llm.apiKey ?? 'none'}` },
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  if (!response?.ok) return undefined;
  const body = (await response.json().catch(() => ({}))) as { data?: Record<string, unknown>[] };
  const entry = body.data?.find((m) => m.id === model) ?? (body.data?.length === 1 ? body.data[0] : undefined);
  const meta = entry?.meta as Record<string, unknown> | undefined;
  // vLLM: max_model_len; LM Studio and others: context_length; llama.cpp's server: meta.n_ctx(_train)
  return num(entry?.max_model_len) ?? num(entry?.context_length) ?? num(meta?.n_ctx) ?? num(meta?.n_ctx_train);
}

/** The tokens a reply may take: the configured limit, else a quarter of the window (at most 1024). */
export const replyReserve = (llm: AnvilConfig['llm'], window: number) =>
  llm.maxTokens ?? Math.min(1024, Math.floor(window / 4));
