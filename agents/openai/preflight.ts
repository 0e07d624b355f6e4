import type { AnvilConfig } from '../../config';
import { TypedError } from '../../domain/failures';

/**
 * Fails within seconds, naming the setting and the address, when the endpoint cannot serve:
 * no key, an address that does not answer, or one that refuses the key. Run before any work.
 */
export async function checkEndpoint(llm: AnvilConfig['llm'], timeoutMs = 5000): Promise<void> {
  if (!llm.apiKey) {
    const hint = 'set OPENAI_API_KEY (any non-empty value for servers without keys, e.g. vLLM or Ollama)';
    throw new TypedError('MissingSetting', 'the openai provider needs OPENAI_API_KEY', hint);
  }
  const url = `${llm.baseUrl.replace(/\/+$/, '')}/models`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${llm.apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    const hint = 'start the server, or point OPENAI_BASE_URL at one that answers';
    throw new TypedError(
      'Unreachable',
      `cannot reach the OpenAI-compatible endpoint at ${llm.baseUrl} (OPENAI_BASE_URL): ${why}`,
      hint,
    );
  }
  if (response.status === 401 || response.status === 403) {
    throw new TypedError('LlmRefused', `the endpoint at ${llm.baseUrl} refused OPENAI_API_KEY (${response.status})`);
  }
  if (!response.ok) {
    throw new TypedError(
      'EndpointError',
      `the endpoint at ${llm.baseUrl} (OPENAI_BASE_URL) answered ${url} with ${response.status}`,
    );
  }
}
