/** The agent providers a forge, a synth or a rollout can run its roles with (agents/ implements them). */
export const PROVIDERS = ['heuristic', 'openai'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
