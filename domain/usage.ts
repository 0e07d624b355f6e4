/** Tokens an LLM role spent, and what they cost by the configured prices. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costUsd: a.costUsd + b.costUsd,
  };
}
