import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import type { RolloutProgress } from '../../domain/rollouts';
import type { rolloutBatch } from '../../workflows';
import { withTemporal } from '../embedded';
import { exportRollout } from '../rollout-export';
import { openTrajectories } from '../../package/trajectories';
import { inputError } from '../failure-report';
import { workflowResult } from '../workflow-result';

export const help = `anvil rollout --task <id> [--task <id> …] --policy heuristic|openai|'{"kind":…}' --samples K
              [--max-steps N] [--seed S] [--concurrency C] [--reward position|raw|medal] [--catalog DIR]
              [--export DIR] [--json]
  Runs a rolloutBatch: K episodes per task with the policy against Dojo environments. The heuristic
  policy's sample i plays a variant drawn from the policy space by seed S (default 0) and i: the
  same seed gives the same batch. Prints per
  episode the reward, status and trajectory file, and per task the group mean, std and
  normalised advantages (GRPO). --policy as JSON names the endpoint, model and sampling
  ({"kind":"openai","baseUrl":…,"model":…,"temperature":…}; docs/rollout-export.md).
  --export DIR: episodes.jsonl and episodes.parquet, one row per episode (anvil export rollout).
  --json: {workflowId, episodes, groups}.
  Exit 0 every episode completed, 1 some failed, 2 unusable input, 3 infrastructure.`;

/** `--policy`: a name, or a policy spec object as JSON. */
export function parsePolicy(value: string): unknown {
  if (!value.trim().startsWith('{')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw inputError(`--policy is not valid JSON (${(err as Error).message})`, 'quote the JSON object in the shell');
  }
}

const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      task: { type: 'string', multiple: true },
      policy: { type: 'string', default: 'heuristic' },
      samples: { type: 'string', default: '1' },
      'max-steps': { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      reward: { type: 'string' },
      catalog: { type: 'string' },
      export: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const input = {
    tasks: values.task ?? [],
    policy: parsePolicy(values.policy!),
    samplesPerTask: int(values.samples),
    ...(values['max-steps'] ? { maxSteps: int(values['max-steps']) } : {}),
    ...(values.concurrency ? { concurrency: int(values.concurrency) } : {}),
    ...(values.policy === 'heuristic' || values.seed ? { seed: int(values.seed ?? '0') } : {}),
    ...(values.reward ? { rewardMode: values.reward } : {}),
  };
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  return withTemporal(
    config,
    async ({ temporal, rollouts, workflowUrl }) => {
      // A request the service refuses is an EnvError (bad-request): reported as unusable input, exit 2.
      const { id } = await rollouts.start(input);
      const link = workflowUrl(id);
      if (!values.json) console.log(`rolloutBatch ${id} started${link ? ` — ${link}` : ''}`);
      const handle = temporal.client.workflow.getHandle<typeof rolloutBatch>(id);
      const done = workflowResult(handle, link);
      if (!values.json) {
        let finished = false;
        void done.finally(() => (finished = true)).catch(() => undefined);
        while (!finished) {
          await new Promise((r) => setTimeout(r, 2000));
          const p = await handle.query<RolloutProgress>('rolloutProgress').catch(() => undefined);
          if (p && !finished) console.log(`  ${p.done}/${p.total} episodes done, ${p.running} running`);
        }
      }
      const result = await done;
      if (values.export) {
        const trajectories = await openTrajectories(config);
        const exported = await exportRollout(result, resolve(values.export), { trajectories });
        if (!values.json) console.log(`exported ${exported.rows} episodes to ${exported.files.join(', ')}`);
      }
      if (values.json) {
        console.log(JSON.stringify(result));
      } else {
        for (const e of result.episodes)
          console.log(
            `${e.task.padEnd(32)} #${String(e.sample).padEnd(3)} ${e.status.padEnd(10)} reward ${e.reward.toFixed(4)}  ${e.trajectory ?? e.error ?? ''}`,
          );
        for (const g of result.groups)
          console.log(
            `\n${g.task}: mean ${g.mean.toFixed(4)}, std ${g.std.toFixed(4)} over ${g.episodes} episodes${g.flagged ? ` (${g.flagged} flagged)` : ''}; advantages ${g.advantages.map((a) => a.toFixed(2)).join(' ')}`,
          );
      }
      return result.episodes.every((e) => e.status === 'completed') ? 0 : 1;
    },
    { catalogDir },
  );
}
