import { join } from 'node:path';
import type { AnvilConfig } from '../config';
import type { ProviderName } from '../domain/providers';
import { heuristicProvider } from './heuristic';
import { createOpenAiProvider, PROMPTS_DIR } from './openai';
import { heuristicSynthProvider } from './heuristic/synth';
import { createOpenAiSynthProvider } from './openai/synth';
import type { AgentProvider } from './roles';
import type { SynthProvider } from './synth-roles';

/** Where a provider's prompts (or templates) live: their hash goes into each task's provenance. */
export const PROMPTS_DIRS: Record<ProviderName, string> = {
  heuristic: join(__dirname, 'heuristic', 'templates'),
  openai: PROMPTS_DIR,
};

/** A provider for one activity call (the openai one counts the tokens of that call). */
export function providerFor(name: ProviderName, llm: AnvilConfig['llm'], failuresDir: string): AgentProvider {
  return name === 'heuristic' ? heuristicProvider : createOpenAiProvider(llm, failuresDir);
}

/** Synth's roles for one activity call (the openai one counts the tokens of that call). */
export function synthProviderFor(name: ProviderName, llm: AnvilConfig['llm'], failuresDir: string): SynthProvider {
  return name === 'heuristic' ? heuristicSynthProvider : createOpenAiSynthProvider(llm, failuresDir);
}
