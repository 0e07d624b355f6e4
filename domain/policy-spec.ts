import { z } from 'zod';

/**
 * Which agent plays an episode, chosen per batch (or per episode) by the caller: the offline
 * heuristic, or any OpenAI-compatible endpoint with its own model and sampling settings (an RL
 * trainer points each iteration at the checkpoint it serves). Raw API keys never travel here:
 * `apiKeyRef` names a key the llm worker holds (`llm.apiKeys` / `ANVIL_LLM_KEY_<REF>`).
 */
export const heuristicPolicySchema = z.strictObject({
  kind: z.literal('heuristic'),
  seed: z.number().int().optional(),
});

export const openAiPolicySchema = z.strictObject({
  kind: z.literal('openai'),
  /** unset = the workers' `llm.baseUrl`; otherwise it must match `llm.endpoints` */
  baseUrl: z.string().url('expected a URL such as http://vllm-0:8000/v1').optional(),
  /** unset = `llm.models.policy` or `llm.model` */
  model: z.string().min(1).max(200).optional(),
  apiKeyRef: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/, 'the name of a key the llm worker holds (lower case, digits, _), never the key')
    .optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
  seed: z.number().int().optional(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).optional(),
  /** ask for the sampled tokens' log-probabilities (and ids, where the server gives them) */
  logprobs: z.boolean().optional(),
  /** server-specific request fields (vLLM: top_k, return_tokens_as_token_ids, …); merged into the body */
  extraBody: z.record(z.string(), z.unknown()).optional(),
});

/** The object form, or the old names `"heuristic"` / `"openai"` (the workers' configured endpoint). */
export const policySpecSchema = z.union([
  z.enum(['heuristic', 'openai']),
  z.discriminatedUnion('kind', [heuristicPolicySchema, openAiPolicySchema]),
]);
export type PolicySpecInput = z.input<typeof policySpecSchema>;
export type HeuristicPolicySpec = z.output<typeof heuristicPolicySchema>;
export type OpenAiPolicySpec = z.output<typeof openAiPolicySchema>;
export type PolicySpec = HeuristicPolicySpec | OpenAiPolicySpec;

/** The object form of a policy spec (an old name becomes `{kind}`). */
export function policyOf(spec: PolicySpecInput | PolicySpec): PolicySpec {
  return typeof spec === 'string' ? { kind: spec } : spec;
}

/** Whether `url` matches one allow-list pattern: exact, or `*` standing for one host/port/path segment's text. */
export function endpointMatches(pattern: string, url: string): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '');
  const regex = norm(pattern)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/?#]*');
  return new RegExp(`^${regex}$`).test(norm(url));
}

/**
 * Why a policy's endpoint may not be used (undefined when it may): the workers' own `llm.baseUrl`
 * is always allowed, any other must match one of `allowed`.
 */
export function endpointRefusal(
  spec: PolicySpec,
  { defaultUrl, allowed }: { defaultUrl: string; allowed: readonly string[] },
): string | undefined {
  if (spec.kind !== 'openai' || spec.baseUrl === undefined) return undefined;
  if (endpointMatches(defaultUrl, spec.baseUrl) || allowed.some((p) => endpointMatches(p, spec.baseUrl!)))
    return undefined;
  return (
    `policy.baseUrl ${spec.baseUrl} is not an allowed endpoint; allowed: ${[defaultUrl, ...allowed].join(', ')} ` +
    '(an operator adds it to llm.endpoints or ANVIL_LLM_ENDPOINTS)'
  );
}
