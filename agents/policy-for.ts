import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { AnvilConfig } from '../config';
import { endpointRefusal, type PolicySpec } from '../domain/policy-spec';
import type { PolicyVariant } from '../domain/policy-space';
import type { TranscriptTurn } from '../domain/transcript';
import { createHeuristicPolicy } from './heuristic/policy';
import { EndpointLimits } from './openai/endpoint-limits';
import { createOpenAiPolicy } from './openai/policy';
import type { Policy } from './policy';

export type TranscriptSink = (turn: Omit<TranscriptTurn, 'turn'>) => Promise<void>;

export interface PolicyOptions {
  transcript?: TranscriptSink;
  variant?: PolicyVariant;
  /** the episode's sample in its rollout group (an openai policy's seed is offset by it) */
  sample?: number;
}

/**
 * The llm worker's policies by spec: the heuristic, or an OpenAI-compatible endpoint that must be
 * the configured one or match `llm.endpoints`, with its key looked up by name. One set of
 * per-endpoint limits is shared by every policy the worker makes.
 */
export function createPolicyFactory(config: AnvilConfig): (spec: PolicySpec, options?: PolicyOptions) => Policy {
  const limits = new EndpointLimits(config.llm);
  const failuresDir = join(config.paths.artifacts, 'llm-failures');
  return (spec, { transcript, variant, sample } = {}) => {
    if (spec.kind === 'heuristic') return createHeuristicPolicy({ variant });
    const refusal = endpointRefusal(spec, { defaultUrl: config.llm.baseUrl, allowed: allowedPatterns(config) });
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'EndpointRefused');
    let apiKey: string | undefined;
    if (spec.apiKeyRef) {
      apiKey = config.llm.apiKeys[spec.apiKeyRef];
      if (!apiKey)
        throw ApplicationFailure.nonRetryable(
          `policy.apiKeyRef "${spec.apiKeyRef}" names no key this llm worker holds; set ANVIL_LLM_KEY_${spec.apiKeyRef.toUpperCase()} (or llm.apiKeys.${spec.apiKeyRef}) on the llm workers`,
          'UnknownApiKey',
        );
    }
    return createOpenAiPolicy({ llm: config.llm, failuresDir, spec, apiKey, limits, transcript, sample });
  };
}

/** The URL patterns of `llm.endpoints`. */
export function allowedPatterns(config: Pick<AnvilConfig, 'llm'>): string[] {
  return config.llm.endpoints.map((e) => (typeof e === 'string' ? e : e.url));
}
