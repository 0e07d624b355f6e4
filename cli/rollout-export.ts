import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type EpisodeFiles, type EpisodeRow, exportRows, selectRows } from '../domain/rollout-export';
import type { EpisodeOutcome, RolloutResult } from '../domain/rollouts';
import { ENV_TOOLS, toSftRecord } from '../domain/sft';
import type { TranscriptMessage, TranscriptTurn } from '../domain/transcript';
import { createTrajectories, type Trajectories } from '../package/trajectories';

/** An episode's transcript turns and trajectory entries from the artifact store (missing ones: empty). */
async function episodeFiles(e: EpisodeOutcome, trajectories: Trajectories): Promise<EpisodeFiles> {
  const transcript =
    e.transcript && existsSync(e.transcript)
      ? readdirSync(e.transcript)
          .filter((f) => /^turn-\d+\.json$/.test(f))
          .sort()
          .map((f) => JSON.parse(readFileSync(join(e.transcript!, f), 'utf8')) as TranscriptTurn)
      : [];
  const trajectory = (e.trajectory && (await trajectories.read(e.trajectory))) || [];
  return { transcript, trajectory };
}

export interface ExportOptions {
  /** where the episodes' trajectories are read (`openTrajectories(config)`); unset = trajectory files only */
  trajectories?: Trajectories;
  /** also write sft.jsonl, keeping only these episodes */
  sft?: { medalOnly?: boolean; topK?: number };
}

/**
 * Writes `episodes.jsonl` and `episodes.parquet` (one row per episode, docs/rollout-export.md)
 * and, when asked, `sft.jsonl` (chat records of the selected episodes) into `dir`.
 */
export async function exportRollout(result: RolloutResult, dir: string, options: ExportOptions = {}) {
  // Without a store only file refs can be read; nothing is written under `dir` by reading.
  const trajectories = options.trajectories ?? createTrajectories({ dir });
  const files = await Promise.all(result.episodes.map((e) => episodeFiles(e, trajectories)));
  const rows = exportRows(result, (i) => files[i]!);
  await mkdir(dir, { recursive: true });
  const written = [join(dir, 'episodes.jsonl'), join(dir, 'episodes.parquet')];
  await writeFile(written[0]!, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await writeFile(written[1]!, new Uint8Array(parquetWriteBuffer({ columnData: columnsOf(rows) })));
  if (options.sft) {
    const kept = selectRows(rows, options.sft);
    const records = kept.map((r) => {
      const i = rows.indexOf(r);
      const messages = r.turns.length > 0 ? chatOf(r) : toSftRecord(files[i]!.trajectory).messages;
      return { messages, tools: ENV_TOOLS, reward: r.reward, task: r.task, group_id: r.group_id };
    });
    written.push(join(dir, 'sft.jsonl'));
    await writeFile(written[2]!, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  return { rows: rows.length, files: written };
}

/** The chat the model continued: its prompt, then each accepted reply and the environment's answer. */
function chatOf(row: EpisodeRow): TranscriptMessage[] {
  return [...row.prompt, ...row.turns.flatMap((t) => (t.tool ? [t.assistant, t.tool] : [t.assistant]))];
}

function columnsOf(rows: EpisodeRow[]) {
  const col = <K extends keyof EpisodeRow>(name: K, type: 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | 'JSON') => ({
    name,
    type,
    data: rows.map((r) => r[name]) as never[],
  });
  return [
    col('rollout_id', 'STRING'),
    col('group_id', 'STRING'),
    col('task', 'STRING'),
    col('sample', 'INT32'),
    col('status', 'STRING'),
    col('reward', 'DOUBLE'),
    col('advantage', 'DOUBLE'),
    col('medal', 'BOOLEAN'),
    col('steps', 'INT32'),
    col('env_id', 'STRING'),
    col('endpoint', 'STRING'),
    col('model', 'STRING'),
    col('sampling', 'JSON'),
    col('prompt', 'JSON'),
    col('turns', 'JSON'),
    col('prompt_tokens', 'INT32'),
    col('completion_tokens', 'INT32'),
    col('trajectory', 'STRING'),
    col('transcript', 'STRING'),
  ];
}
