import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import type { RolloutResult } from '../../domain/rollouts';
import { withTemporal } from '../embedded';
import { inputError, usageError } from '../failure-report';
import { exportRollout } from '../rollout-export';
import { openTrajectories } from '../../package/trajectories';

export const help = `anvil export rollout <rollout-id> [--out DIR] [--sft [--medal-only] [--top-k K]] [--json]
  Writes a finished rollout batch for a trainer: DIR/episodes.jsonl and DIR/episodes.parquet, one
  row per episode (prompt messages, response turns with token counts, token ids and log-probs when
  the server returned them, reward, group id, advantage; docs/rollout-export.md). --sft also
  writes DIR/sft.jsonl (chat records), only medal episodes with --medal-only, the K best of each
  group with --top-k. DIR defaults to ./<rollout-id>.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      sft: { type: 'boolean', default: false },
      'medal-only': { type: 'boolean', default: false },
      'top-k': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [what, id, ...rest] = positionals;
  if (what !== 'rollout' || !id || rest.length > 0) throw usageError(help, 'give `rollout` and one rollout id');
  const topK = values['top-k'] === undefined ? undefined : Number(values['top-k']);
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1))
    throw inputError(`--top-k must be a positive whole number (got ${values['top-k']})`);
  const dir = resolve(values.out ?? id);
  return withTemporal(config, async ({ rollouts }) => {
    const status = await rollouts.get(id);
    if (status.status !== 'completed')
      throw inputError(
        `rollout ${id} is ${status.status}${status.status === 'failed' ? ` (${status.error})` : ''}; only a completed batch exports`,
        'wait for it to finish (anvil rollout prints progress), or start a new one',
      );
    const result: RolloutResult = status.result;
    const sft = values.sft ? { medalOnly: values['medal-only'], ...(topK ? { topK } : {}) } : undefined;
    const trajectories = await openTrajectories(config);
    const exported = await exportRollout(result, dir, { trajectories, ...(sft ? { sft } : {}) });
    console.log(
      values.json ? JSON.stringify(exported) : `exported ${exported.rows} episodes to ${exported.files.join(', ')}`,
    );
    return 0;
  });
}
