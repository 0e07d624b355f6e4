import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createHeuristicPolicy } from '../../agents/heuristic/policy';
import type { AnvilConfig } from '../../config';
import { REWARD_MODES, type TrajectoryEntry } from '../../domain/env';
import { taskQueueName } from '../../domain/queues';
import type { RewardMode } from '../../domain/rewards';
import { ENV_TOOLS, toSftRecord } from '../../domain/sft';
import { createRolloutService } from '../../gateway/rollouts';
import { createGateway } from '../../gateway/server';
import { createTemporalEnvService } from '../../gateway/temporal-envs';
import type { Temporal } from '../../workers/connect';
import { findTask, listCatalog } from '../../package/catalog';
import { withTemporal } from '../embedded';
import { runEpisode } from '../episode';

export const help = `anvil env serve [--port P] [--host H] [--catalog DIR]
  The Dojo's HTTP gateway (POST /v1/envs, POST /v1/envs/:id/step, GET/DELETE /v1/envs/:id,
  GET /v1/tasks, POST /v1/rollouts, GET /v1/rollouts/:id, GET /openapi.json) until Ctrl-C.
anvil env run <task-id> --policy heuristic [--steps N] [--reward position|raw|medal] [--catalog DIR] [--json]
  Plays one whole episode with the built-in baseline policy and prints each step and the reward.
anvil env export <env-id|trajectory.jsonl> --format sft [--out FILE]
  A session's trajectory as one chat-format fine-tuning record (messages with tool calls, tools, reward).`;

function envService(temporal: Temporal, config: AnvilConfig, catalogDir: string) {
  return createTemporalEnvService({
    client: temporal.client,
    controlQueue: taskQueueName(config.taskQueuePrefix, 'control'),
    catalogDir,
    listTasks: () =>
      listCatalog(catalogDir).map(({ id, manifest }) => ({
        id,
        title: manifest.title,
        taskType: manifest.taskType,
        metric: manifest.metric.name,
        synthetic: Boolean(manifest.synthetic),
      })),
    defaults: { budget: { steps: config.env.steps, wallTimeS: config.env.wallTimeS, idleTimeoutS: config.env.idleTimeoutS }, rewardMode: config.env.rewardMode },
  });
}

async function serve(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, catalog: { type: 'string' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number (got ${values.port})`);
    return 2;
  }
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  return withTemporal(config, async (temporal) => {
    const rollouts = createRolloutService({ client: temporal.client, controlQueue: taskQueueName(config.taskQueuePrefix, 'control'), catalogDir });
    const app = createGateway({ envs: envService(temporal, config, catalogDir), rollouts, logger: false });
    await app.listen({ port, host: values.host });
    console.log(`Dojo gateway on http://${values.host}:${port} (tasks from ${catalogDir}; OpenAPI at /openapi.json); Ctrl-C stops it`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await app.close();
    return 0;
  });
}

async function play(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { policy: { type: 'string', default: 'heuristic' }, steps: { type: 'string' }, reward: { type: 'string' }, catalog: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const [taskId] = positionals;
  if (!taskId || positionals.length > 1) {
    console.error('usage: anvil env run <task-id> --policy heuristic');
    return 2;
  }
  if (values.policy !== 'heuristic') {
    console.error(`--policy must be heuristic (got ${values.policy}); LLM policies arrive with rollouts`);
    return 2;
  }
  if (values.reward && !REWARD_MODES.includes(values.reward as RewardMode)) {
    console.error(`--reward must be one of ${REWARD_MODES.join(', ')} (got ${values.reward})`);
    return 2;
  }
  const steps = values.steps ? Number(values.steps) : undefined;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) {
    console.error(`--steps must be a positive whole number (got ${values.steps})`);
    return 2;
  }
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  if (!findTask(catalogDir, taskId)) {
    console.error(`no task "${taskId}" in ${catalogDir} (see \`anvil tasks list\`)`);
    return 2;
  }
  return withTemporal(config, async (temporal) => {
    const episode = await runEpisode(
      envService(temporal, config, catalogDir),
      createHeuristicPolicy(),
      { taskId, ...(steps ? { budget: { steps } } : {}), ...(values.reward ? { rewardMode: values.reward as RewardMode } : {}) },
      (turn) => {
        if (values.json) return;
        const o = turn.observation;
        console.log(`${String(o.step).padStart(3)} ${(turn.action?.action ?? 'open').padEnd(14)} ${o.status.padEnd(5)} ${o.message}${turn.reward ? `  reward ${turn.reward.toFixed(4)}` : ''}`);
      },
    );
    if (values.json) {
      console.log(JSON.stringify({ envId: episode.envId, reward: episode.reward, steps: episode.state.stepsUsed, best: episode.state.best, trajectory: episode.state.trajectory }));
    } else {
      console.log(`\nreward ${episode.reward.toFixed(4)} (${episode.state.rewardMode}) after ${episode.state.stepsUsed} steps; trajectory ${episode.state.trajectory}`);
    }
    return episode.state.best ? 0 : 1;
  });
}

function exportTrajectory(argv: string[], config: AnvilConfig): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { format: { type: 'string', default: 'sft' }, out: { type: 'string' } } });
  const [ref] = positionals;
  if (!ref || positionals.length > 1) {
    console.error('usage: anvil env export <env-id|trajectory.jsonl> --format sft [--out FILE]');
    return 2;
  }
  if (values.format !== 'sft') {
    console.error(`--format must be sft (got ${values.format})`);
    return 2;
  }
  const file = ref.endsWith('.jsonl') ? resolve(ref) : join(config.paths.artifacts, 'trajectories', `${ref}.jsonl`);
  if (!existsSync(file)) {
    console.error(`no trajectory at ${file}: pass an environment id (envId) or the path of its .jsonl file`);
    return 2;
  }
  // A line a crash cut short is skipped; every complete step is kept.
  const entries = readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as TrajectoryEntry] : [];
    } catch {
      return [];
    }
  });
  if (entries.length === 0) {
    console.error(`${file} holds no steps yet`);
    return 1;
  }
  const record = `${JSON.stringify({ ...toSftRecord(entries), tools: ENV_TOOLS })}\n`;
  if (values.out) {
    writeFileSync(values.out, record);
    console.error(`wrote ${entries.length} steps to ${values.out}`);
  } else process.stdout.write(record);
  return 0;
}

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'serve') return serve(rest, config);
  if (verb === 'run') return play(rest, config);
  if (verb === 'export') return exportTrajectory(rest, config);
  console.error(`anvil env: unknown subcommand "${verb ?? ''}"; one of serve, run, export`);
  return 2;
}
