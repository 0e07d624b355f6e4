import type { AnvilConfig } from '../../config';

/**
 * Fails within seconds, naming the setting and the address, when the endpoint cannot serve:
 * no key, an address that does not answer, or one that refuses the key. Run before any work.
 */
export async function checkEndpoint(llm: AnvilConfig['llm'], timeoutMs = 5000): Promise<void> {
  if (!llm.apiKey) {
    throw new Error('the openai provider needs OPENAI_API_KEY (any non-empty value for servers without keys, e.g. vLLM or Ollama)');
  }
  const url = `${llm.baseUrl.replace(/\/+$/, '')}/models`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${llm.apiKey}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach the OpenAI-compatible endpoint at ${llm.baseUrl} (OPENAI_BASE_URL): ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new Error(`the endpoint at ${llm.baseUrl} refused OPENAI_API_KEY (${response.status})`);
  }
  if (!response.ok) throw new Error(`the endpoint at ${llm.baseUrl} (OPENAI_BASE_URL) answered ${url} with ${response.status}`);
}
