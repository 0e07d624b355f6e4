import { heuristicProvider } from './heuristic';
import type { AgentProvider } from './roles';

export const PROVIDERS = ['heuristic', 'openai'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** The provider for a name; the openai provider is not built yet and says so. */
export function providerFor(name: ProviderName): AgentProvider {
  if (name === 'heuristic') return heuristicProvider;
  throw new Error('the openai provider is not available yet: use --provider heuristic');
}
