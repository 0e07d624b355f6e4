import OpenAI from 'openai';

/**
 * How a server holds a reply to a JSON schema: OpenAI and vLLM take `json_schema`; llama.cpp takes
 * `json_object` with a `schema` beside it (and answers `json_schema` with a 400 or a 500); anything
 * else gets the schema in the prompt and JSON read out of the text.
 */
export type JsonDialect = 'json_schema' | 'json_object' | 'text';
export const JSON_DIALECTS: readonly JsonDialect[] = ['json_schema', 'json_object', 'text'];

/** The request fields that hold the reply to `schema` in `dialect`. */
export function responseFormatOf(dialect: JsonDialect, name: string, schema: Record<string, unknown>) {
  if (dialect === 'json_schema') return { response_format: { type: 'json_schema', json_schema: { name, schema } } };
  if (dialect === 'json_object') return { response_format: { type: 'json_object', schema } };
  return {};
}

/**
 * Whether an error answer to a request that carried a response format says the server does not
 * speak that dialect: a 400/422 naming the format, or any 5xx (llama.cpp's answer to json_schema).
 */
export function refusesFormat(err: unknown): boolean {
  if (!(err instanceof OpenAI.APIError) || err.status === undefined) return false;
  if (err.status >= 500) return true;
  return (
    (err.status === 400 || err.status === 422) && /response_format|json_schema|json_object|schema/i.test(err.message)
  );
}

const PROBE_SCHEMA = {
  type: 'object',
  properties: { ok: { type: 'boolean' } },
  required: ['ok'],
  additionalProperties: false,
};

/** One probe per server and model in this process: the first dialect that returns JSON fitting a tiny schema. */
const known = new Map<string, Promise<JsonDialect>>();
const keyOf = (baseUrl: string, model: string) => `${baseUrl.replace(/\/+$/, '')} ${model}`;

export function dialectFor(
  openai: OpenAI,
  baseUrl: string,
  model: string,
  configured: JsonDialect | 'auto',
): Promise<JsonDialect> {
  if (configured !== 'auto') return Promise.resolve(configured);
  const key = keyOf(baseUrl, model);
  let dialect = known.get(key);
  if (!dialect) {
    dialect = probe(openai, model);
    known.set(key, dialect);
    dialect.catch(() => known.delete(key)); // a server that was down is probed again next time
  }
  return dialect;
}

/** After a refusal in flight: the next dialect for this server and model, kept for later calls. */
export function downgrade(baseUrl: string, model: string, from: JsonDialect): JsonDialect | undefined {
  const next = JSON_DIALECTS[JSON_DIALECTS.indexOf(from) + 1];
  if (next) known.set(keyOf(baseUrl, model), Promise.resolve(next));
  return next;
}

async function probe(openai: OpenAI, model: string): Promise<JsonDialect> {
  for (const dialect of ['json_schema', 'json_object'] as const) {
    try {
      const response = await openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Reply with this JSON: {"ok": true}' }],
        max_tokens: 16,
        temperature: 0,
        ...(responseFormatOf(dialect, 'probe', PROBE_SCHEMA) as object),
      });
      const text = response.choices[0]?.message.content ?? '';
      if (typeof (JSON.parse(text) as { ok?: unknown }).ok === 'boolean') return dialect;
    } catch (err) {
      if (err instanceof SyntaxError || refusesFormat(err)) continue; // not this dialect: try the next
      throw err;
    }
  }
  return 'text';
}

/**
 * The schema as sent to the server: every object closed (`additionalProperties: false`) unless it says
 * what extra keys hold. zod's loose objects allow any extra key, and a grammar built from that lets a
 * small model wander into invented keys until the token limit (seen with SmolLM2 on `metric`). Long
 * string bounds are left to validation.
 */
export function closedSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closedSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = closedSchema(value);
  const extra = out.additionalProperties;
  const open = extra === undefined || extra === true || (typeof extra === 'object' && !Object.keys(extra!).length);
  if (out.type === 'object' && out.properties && open) out.additionalProperties = false;
  // llama.cpp spells a length bound out as that many grammar repeats: 256 KiB of code hung its server
  if (typeof out.maxLength === 'number' && out.maxLength > 4096) delete out.maxLength;
  return out;
}
