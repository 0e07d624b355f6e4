import type { Action } from './env';

/**
 * What the model saw and said in one episode, kept as artifacts (a folder of `turn-<n>.json`, one
 * per policy turn, referenced from the episode's outcome) so workflow payloads stay small. A trainer
 * reads it to compute a policy-gradient loss: messages, token counts, and token ids and
 * log-probabilities when the server returned them.
 */

/** A chat message as sent to or received from an OpenAI-compatible server. */
export interface TranscriptMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** The sampled tokens of one reply, present only when the server returned log-probs. */
export interface TokenData {
  tokens: string[];
  logprobs: number[];
  /** only when the server gives ids (vLLM: `return_tokens_as_token_ids`, or `token_ids`) */
  tokenIds?: number[];
}

/** One reply of the model: accepted (the last of a turn), or rejected and asked again. */
export interface TranscriptAttempt {
  message: TranscriptMessage;
  finishReason: string | null;
  promptTokens?: number;
  completionTokens?: number;
  tokens?: TokenData;
  /** why this reply was refused (the model was told and asked again) */
  rejected?: string;
}

export interface TranscriptTurn {
  /** 0-based policy turn; turn n's action became step n+1 */
  turn: number;
  endpoint: string;
  model: string;
  /** the sampling settings sent (temperature, top_p, max_tokens, seed, stop, logprobs, extra body keys) */
  sampling: Record<string, unknown>;
  /** the prompt of the turn's first request: system, user, then assistant/tool pairs of earlier turns */
  messages: TranscriptMessage[];
  attempts: TranscriptAttempt[];
  /** the action taken, null when the model stopped; absent when every reply was refused */
  action?: Action | null;
}

export const transcriptTurnFile = (turn: number) => `turn-${String(turn).padStart(4, '0')}.json`;

/**
 * Token data from a chat completion choice: OpenAI's `logprobs.content`, with ids from vLLM's
 * `token_ids` or from tokens spelled `token_id:<n>`. Undefined when the server sent none.
 */
export function tokenDataOf(choice: {
  logprobs?: { content?: { token: string; logprob: number }[] | null } | null;
  token_ids?: number[] | null;
}): TokenData | undefined {
  const content = choice.logprobs?.content;
  if (!content || content.length === 0) return undefined;
  const tokens = content.map((c) => c.token);
  const spelled = tokens.map((t) => /^token_id:(\d+)$/.exec(t)?.[1]);
  const tokenIds =
    choice.token_ids && choice.token_ids.length === tokens.length
      ? choice.token_ids
      : spelled.every((id) => id !== undefined)
        ? spelled.map(Number)
        : undefined;
  return { tokens, logprobs: content.map((c) => c.logprob), ...(tokenIds ? { tokenIds } : {}) };
}
