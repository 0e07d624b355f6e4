import { ApplicationFailure } from '@temporalio/common';
import type { AnvilConfig } from '../../config';
import type { Message } from './client';
import { contextWindow, promptTokens } from './context';

/** What stands in for an observation left out of the prompt. */
export const leftOutNote = (step: number) =>
  `(the observation of step ${step} is left out to fit the context window; get_history shows it again)`;

/**
 * The policy's conversation as it fits the model's context window with `reserve` tokens left for the
 * reply: the oldest observations among the first `history` messages are replaced, one at a time, by a
 * note saying so (the latest is always kept whole, and so is what a re-ask added after them); a prompt
 * that still does not fit fails for good as PromptTooLong. A prompt that cannot exceed the window (at
 * most one token per byte) is sent without asking the server to count it.
 */
export async function fitPolicyPrompt(
  server: AnvilConfig['llm'],
  model: string,
  messages: Message[],
  history: number,
  reserve: number | undefined,
): Promise<Message[]> {
  const window = await contextWindow(server, model);
  if (!window) return messages; // unknown: the server's own refusal fails the turn
  const budget = window - (reserve ?? Math.min(1024, Math.floor(window / 4)));
  if (Buffer.byteLength(JSON.stringify(messages)) <= budget) return messages;
  const sent = messages.map((m) => ({ ...m })) as Message[];
  const tools = sent.flatMap((m, i) => (m.role === 'tool' && i < history ? [i] : [])).slice(0, -1);
  let size = await promptTokens(server, model, sent);
  for (const [n, i] of tools.entries()) {
    if (size.tokens <= budget) break;
    sent[i] = { ...sent[i], content: leftOutNote(n + 1) } as Message;
    size = await promptTokens(server, model, sent);
  }
  if (size.tokens > budget)
    throw ApplicationFailure.nonRetryable(
      `the policy's prompt takes ${size.tokens} tokens${size.measured ? '' : ' (estimated)'} with every earlier ` +
        `observation left out, more than the ${budget} that ${model}'s ${window}-token context window leaves beside ` +
        `${window - budget} for the reply; use a model with a longer context or a lower maxTokens`,
      'PromptTooLong',
    );
  return sent;
}
