import type { TrajectoryEntry } from './env';
import type { RolloutResult } from './rollouts';
import { compact } from './sft';
import type { TranscriptMessage, TranscriptTurn } from './transcript';

/**
 * A rollout batch as a trainer reads it: one row per episode (docs/rollout-export.md is the
 * schema). Token ids and log-probs appear per assistant turn only when the server returned them.
 */
export interface ExportTurn {
  /** the accepted assistant message (a tool call, or the final text) */
  assistant: TranscriptMessage;
  /** what the environment answered to the tool call; null after a final text answer */
  tool: TranscriptMessage | null;
  prompt_tokens?: number;
  completion_tokens?: number;
  tokens?: string[];
  token_ids?: number[];
  logprobs?: number[];
  /** replies refused before the accepted one (not part of the chat the model continued) */
  rejected: { assistant: TranscriptMessage; reason: string }[];
}

export interface EpisodeRow {
  rollout_id: string;
  /** the GRPO group: every sample of one task in this batch */
  group_id: string;
  task: string;
  sample: number;
  status: string;
  reward: number;
  advantage: number;
  /** whether an execute_code step reached bronze or better */
  medal: boolean;
  steps: number;
  env_id: string | null;
  endpoint: string | null;
  model: string | null;
  sampling: Record<string, unknown> | null;
  /** system and user messages before the first assistant turn */
  prompt: TranscriptMessage[];
  turns: ExportTurn[];
  prompt_tokens: number;
  completion_tokens: number;
  trajectory: string | null;
  transcript: string | null;
}

export interface EpisodeFiles {
  /** transcript turns in order (empty for the heuristic policy) */
  transcript: TranscriptTurn[];
  trajectory: TrajectoryEntry[];
}

const MEDALS = ['bronze', 'silver', 'gold'];

/** One row per episode of `result`, in its order, from each episode's transcript and trajectory. */
export function exportRows(result: RolloutResult, files: (index: number) => EpisodeFiles): EpisodeRow[] {
  return result.episodes.map((e, index) => {
    const group = result.groups.find((g) => g.task === e.task);
    const position = result.episodes.filter((o) => o.task === e.task).sort((a, b) => a.sample - b.sample);
    const advantage = group?.advantages[position.indexOf(e)] ?? 0;
    const { transcript, trajectory } = files(index);
    const turns = transcript.flatMap((turn, i) => exportTurn(turn, transcript[i + 1], trajectory));
    const first = transcript[0];
    return {
      rollout_id: result.workflowId,
      group_id: `${result.workflowId}/${e.task}`,
      task: e.task,
      sample: e.sample,
      status: e.status,
      reward: e.reward,
      advantage,
      medal: trajectory.some((t) => MEDALS.includes(t.observation.score?.medal ?? 'none')),
      steps: e.steps,
      env_id: e.envId ?? null,
      endpoint: first?.endpoint ?? null,
      model: first?.model ?? null,
      sampling: first?.sampling ?? null,
      prompt: first ? first.messages.filter((m) => m.role === 'system' || m.role === 'user').slice(0, 2) : [],
      turns,
      prompt_tokens: turns.reduce((n, t) => n + (t.prompt_tokens ?? 0), 0),
      completion_tokens: turns.reduce((n, t) => n + (t.completion_tokens ?? 0), 0),
      trajectory: e.trajectory ?? null,
      transcript: e.transcript ?? null,
    };
  });
}

/** A transcript turn as one exported turn; none when every reply was refused (nothing was accepted). */
function exportTurn(turn: TranscriptTurn, next: TranscriptTurn | undefined, trajectory: TrajectoryEntry[]) {
  const accepted = turn.action !== undefined ? turn.attempts.at(-1) : undefined;
  if (!accepted) return [];
  const call = accepted.message.tool_calls?.[0];
  const step = trajectory.find((t) => t.step === turn.turn + 1);
  // The next turn's prompt ends with this call's answer; the last one is rebuilt from the trajectory.
  const tool: TranscriptMessage | null = !call
    ? null
    : ([...(next?.messages ?? [])].reverse().find((m) => m.role === 'tool') ??
      (step ? { role: 'tool', tool_call_id: call.id, content: JSON.stringify(compact(step.observation)) } : null));
  const row: ExportTurn = {
    assistant: accepted.message,
    tool,
    ...(accepted.promptTokens !== undefined && { prompt_tokens: accepted.promptTokens }),
    ...(accepted.completionTokens !== undefined && { completion_tokens: accepted.completionTokens }),
    ...(accepted.tokens && {
      tokens: accepted.tokens.tokens,
      logprobs: accepted.tokens.logprobs,
      ...(accepted.tokens.tokenIds && { token_ids: accepted.tokens.tokenIds }),
    }),
    rejected: turn.attempts
      .filter((a) => a.rejected !== undefined)
      .map((a) => ({ assistant: a.message, reason: a.rejected! })),
  };
  return [row];
}

/**
 * The rows an SFT export keeps: with `medalOnly`, episodes that reached a medal; with `topK`, the
 * K best rewards of each group (ties by sample order).
 */
export function selectRows<T extends Pick<EpisodeRow, 'group_id' | 'reward' | 'sample' | 'medal'>>(
  rows: T[],
  { medalOnly = false, topK }: { medalOnly?: boolean; topK?: number },
): T[] {
  const kept = rows.filter((r) => !medalOnly || r.medal);
  if (topK === undefined) return kept;
  const groups = [...new Set(kept.map((r) => r.group_id))];
  return groups.flatMap((g) =>
    kept
      .filter((r) => r.group_id === g)
      .sort((a, b) => b.reward - a.reward || a.sample - b.sample)
      .slice(0, topK),
  );
}
