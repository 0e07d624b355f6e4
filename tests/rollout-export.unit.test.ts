import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { exportRollout } from '../cli/rollout-export';
import type { TrajectoryEntry } from '../domain/env';
import { type EpisodeRow, selectRows } from '../domain/rollout-export';
import { type EpisodeOutcome, groupStats } from '../domain/rollouts';
import { type TranscriptTurn, transcriptTurnFile } from '../domain/transcript';

const dir = mkdtempSync(join(tmpdir(), 'anvil-export-'));
const SYSTEM = { role: 'system' as const, content: 'You are an agent.' };
const USER = { role: 'user' as const, content: 'Solve this task.' };
const callOf = (id: string, name: string) => ({
  role: 'assistant' as const,
  content: null,
  tool_calls: [{ id, type: 'function' as const, function: { name, arguments: '{"kind":"data"}' } }],
});

/** An episode of one request_info then a text answer, with or without log-probs, on disk. */
function episode(task: string, sample: number, reward: number, logprobs: boolean, medal = 'none'): EpisodeOutcome {
  const id = `${task}-${sample}`;
  const transcript = join(dir, 'transcripts', id);
  mkdirSync(transcript, { recursive: true });
  const tokens = (ids: number[]) =>
    logprobs
      ? { tokens: { tokens: ids.map((i) => `token_id:${i}`), logprobs: ids.map((i) => -i / 100), tokenIds: ids } }
      : {};
  const turns: TranscriptTurn[] = [
    {
      turn: 0,
      endpoint: 'http://ckpt/v1',
      model: 'ckpt-1',
      sampling: { temperature: 1 },
      messages: [SYSTEM, USER],
      attempts: [
        { message: callOf('bad', 'train'), finishReason: 'tool_calls', rejected: 'there is no tool "train"' },
        {
          message: callOf('c1', 'request_info'),
          finishReason: 'tool_calls',
          promptTokens: 10,
          completionTokens: 3,
          ...tokens([1, 2, 3]),
        },
      ],
      action: { action: 'request_info', params: { kind: 'data' } },
    },
    {
      turn: 1,
      endpoint: 'http://ckpt/v1',
      model: 'ckpt-1',
      sampling: { temperature: 1 },
      messages: [SYSTEM, USER, callOf('c1', 'request_info'), { role: 'tool', tool_call_id: 'c1', content: '{"ok":1}' }],
      attempts: [
        {
          message: { role: 'assistant', content: 'done' },
          finishReason: 'stop',
          promptTokens: 20,
          completionTokens: 1,
          ...tokens([4]),
        },
      ],
      action: null,
    },
  ];
  for (const t of turns) writeFileSync(join(transcript, transcriptTurnFile(t.turn)), JSON.stringify(t));
  const trajectory = join(dir, `${id}.jsonl`);
  const entry = {
    step: 1,
    action: 'request_info',
    params: {},
    observation: { score: { medal } },
  } as unknown as TrajectoryEntry;
  writeFileSync(trajectory, `${JSON.stringify(entry)}\n`);
  return { task, sample, status: 'completed', reward, steps: 1, envId: `env-${id}`, trajectory, transcript };
}

describe('rollout export', () => {
  it('writes one row per episode as JSONL and Parquet, with token data only where the server returned it', async () => {
    const episodes = [episode('a', 0, 0.2, true), episode('a', 1, 0.8, true, 'gold'), episode('b', 0, 0.5, false)];
    const result = { workflowId: 'rollout-x', episodes, groups: groupStats(episodes) };
    const out = join(dir, 'out');
    const exported = await exportRollout(result, out, { sft: { medalOnly: true } });
    expect(exported.rows).toBe(3);

    const rows = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EpisodeRow);
    expect(rows.map((r) => [r.group_id, r.sample, r.reward, r.medal])).toEqual([
      ['rollout-x/a', 0, 0.2, false],
      ['rollout-x/a', 1, 0.8, true],
      ['rollout-x/b', 0, 0.5, false],
    ]);
    expect(rows[0]!.advantage).toBeCloseTo(-1, 4);
    expect(rows[1]!.advantage).toBeCloseTo(1, 4);
    expect(rows[0]!.prompt).toEqual([SYSTEM, USER]);
    expect(rows[0]!.turns.map((t) => [t.assistant.content, t.tool?.content, t.token_ids, t.logprobs])).toEqual([
      [null, '{"ok":1}', [1, 2, 3], [-0.01, -0.02, -0.03]],
      ['done', undefined, [4], [-0.04]],
    ]);
    expect(rows[0]!.turns[0]!.rejected).toEqual([
      { assistant: callOf('bad', 'train'), reason: 'there is no tool "train"' },
    ]);
    expect([rows[0]!.prompt_tokens, rows[0]!.completion_tokens, rows[0]!.model]).toEqual([30, 4, 'ckpt-1']);
    for (const t of rows[2]!.turns) expect(['token_ids', 'logprobs', 'tokens'].filter((k) => k in t)).toEqual([]);

    const buffer = readFileSync(join(out, 'episodes.parquet'));
    const table = (await parquetReadObjects({
      file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
    })) as Record<string, unknown>[];
    expect(table.map((r) => [r.task, r.sample, r.reward])).toEqual([
      ['a', 0, 0.2],
      ['a', 1, 0.8],
      ['b', 0, 0.5],
    ]);
    expect(table[1]!.turns).toEqual(rows[1]!.turns);

    const sft = readFileSync(join(out, 'sft.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(sft.map((r) => [r.task, r.reward])).toEqual([['a', 0.8]]);
    expect(sft[0].messages.map((m: { role: string }) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
  });

  it('selects the K best episodes of each group, and only medal ones when asked', () => {
    const rows = [
      { group_id: 'a', sample: 0, reward: 0.1, medal: false },
      { group_id: 'a', sample: 1, reward: 0.9, medal: true },
      { group_id: 'a', sample: 2, reward: 0.9, medal: false },
      { group_id: 'b', sample: 0, reward: 0.3, medal: true },
    ];
    expect(selectRows(rows, { topK: 1 }).map((r) => [r.group_id, r.sample])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    expect(selectRows(rows, { topK: 2 }).map((r) => [r.group_id, r.sample])).toEqual([
      ['a', 1],
      ['a', 2],
      ['b', 0],
    ]);
    expect(selectRows(rows, { medalOnly: true }).map((r) => r.sample)).toEqual([1, 0]);
    expect(selectRows(rows, {})).toHaveLength(4);
  });
});
