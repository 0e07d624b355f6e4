import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PolicyTurn } from '../../domain/env';
import { unknownTask } from '../../client';
import type { AnvilConfig } from '../../config';
import { REWARD_MODES } from '../../domain/env';
import { TypedError } from '../../domain/failures';
import { taskQueueName } from '../../domain/queues';
import type { RewardMode } from '../../domain/rewards';
import { ENV_TOOLS, toSftRecord } from '../../domain/sft';
import { createKey, fileKeyRing, readKeysFile } from '../../config/keys-file';
import { createGateway, type GatewayAuth } from '../../gateway/server';
import type { episode } from '../../workflows';
import { openTrajectories } from '../../package/trajectories';
import { openCatalog, openCatalogs } from '../../package/open-catalog';
import { withTemporal } from '../embedded';
import { followTurns } from '../episode-turns';
import { inputError, usageError } from '../failure-report';
import { workflowResult } from '../workflow-result';

export const help = `anvil env serve [--port P] [--host H] [--catalog DIR] [--insecure-localhost]
  The Dojo's HTTP gateway (POST /v1/envs, POST /v1/envs/:id/step, GET/DELETE /v1/envs/:id,
  GET /v1/tasks, POST /v1/rollouts, GET /v1/rollouts/:id, GET /openapi.json) until Ctrl-C.
  Callers send Authorization: Bearer <key> (\`anvil keys\`); with no key yet, the first serve makes
  an admin key and prints it once. --insecure-localhost: no keys, 127.0.0.1 only (development).
anvil env run <task-id> --policy heuristic [--steps N] [--reward position|raw|medal] [--catalog DIR] [--json]
  Plays one whole episode with the built-in baseline policy and prints each step and the reward.
anvil env export <env-id|trajectory.jsonl|store:trajectories/…/> --format sft [--out FILE]
  A session's trajectory as one chat-format fine-tuning record (messages with tool calls, tools, reward).
  Exit 0 ok (run: a scored step), 1 no scored step or the episode failed, 2 unusable input, 3 infrastructure.`;

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

async function serve(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      catalog: { type: 'string' },
      'insecure-localhost': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw usageError(help, `--port must be a port number (got ${values.port})`);
  }
  const insecure = values['insecure-localhost']!;
  if (insecure && !LOOPBACK_HOSTS.includes(values.host!)) {
    throw usageError(help, `--insecure-localhost serves only a loopback address (got --host ${values.host})`);
  }
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  const catalogs = await openCatalogs(config);
  const { keysFile, limits } = config.gateway;
  if (!insecure && !readKeysFile(keysFile).keys.some((k) => !k.revokedAt)) {
    const { token } = createKey(keysFile, { name: 'first env serve', scope: 'admin' });
    console.log(`No API key yet: made an admin key (stored hashed in ${keysFile}); it is shown only now:\n${token}`);
  }
  const auth: GatewayAuth = insecure ? { insecureLocalhost: true, limits } : { keys: fileKeyRing(keysFile, limits) };
  return withTemporal(
    config,
    async ({ envs, rollouts }) => {
      const app = createGateway({ envs, rollouts, auth, logger: false });
      await app.listen({ port, host: values.host });
      console.log(
        `Dojo gateway on http://${values.host}:${port} (tasks from ${catalogDir}; OpenAPI at /openapi.json); Ctrl-C stops it`,
      );
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await app.close();
      return 0;
    },
    { catalogDir, listTasks: (dir) => catalogs(dir).summaries() },
  );
}

/** A turn as `anvil env run` prints it: step, action, status, message and any reward. */
function turnLine({ observation: o, action, reward }: PolicyTurn): string {
  const rewarded = reward ? `  reward ${reward.toFixed(4)}` : '';
  const name = (action?.action ?? 'open').padEnd(14);
  return `${String(o.step).padStart(3)} ${name} ${o.status.padEnd(5)} ${o.message}${rewarded}`;
}

const RUN_USAGE = help.split('\n').find((line) => line.startsWith('anvil env run'))!;
const EXPORT_USAGE = help.split('\n').find((line) => line.startsWith('anvil env export'))!;

async function play(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      policy: { type: 'string', default: 'heuristic' },
      steps: { type: 'string' },
      reward: { type: 'string' },
      catalog: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [taskId] = positionals;
  if (!taskId || positionals.length > 1) throw usageError(RUN_USAGE, 'give one task id');
  if (values.policy !== 'heuristic') {
    throw usageError(
      RUN_USAGE,
      `--policy must be heuristic (got ${values.policy}); LLM policies run with \`anvil rollout\``,
    );
  }
  if (values.reward && !REWARD_MODES.includes(values.reward as RewardMode)) {
    throw usageError(RUN_USAGE, `--reward must be one of ${REWARD_MODES.join(', ')} (got ${values.reward})`);
  }
  const steps = values.steps ? Number(values.steps) : undefined;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) {
    throw usageError(RUN_USAGE, `--steps must be a positive whole number (got ${values.steps})`);
  }
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  const catalog = await openCatalog(config, { dir: catalogDir });
  if (!(await catalog.resolve(taskId)))
    throw unknownTask(
      taskId,
      catalog.describe,
      (await catalog.list()).map((t) => t.id),
    );
  // The same `episode` workflow as a rollout's, on the control queue.
  return withTemporal(config, async ({ temporal, envs, workflowUrl }) => {
    const workflowId = `episode-${taskId}-${randomUUID().slice(0, 8)}`;
    const input = {
      task: taskId,
      sample: 0,
      policy: 'heuristic' as const,
      maxSteps: steps ?? config.env.steps,
      rewardMode: (values.reward as RewardMode | undefined) ?? config.env.rewardMode,
      catalogDir,
    };
    const handle = await temporal.client.workflow.start<typeof episode>('episode', {
      taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
      workflowId,
      args: [input],
    });
    const done = workflowResult(handle, workflowUrl(workflowId));
    if (!values.json) await followTurns(handle, done, (turn) => console.log(turnLine(turn)));
    const outcome = await done;
    if (outcome.status !== 'completed')
      throw new TypedError('EpisodeFailed', `episode ${workflowId} failed: ${outcome.error}`);
    const state = await envs.get(outcome.envId!);
    const { reward } = outcome;
    const { stepsUsed, best, final, trajectory, rewardMode } = state;
    if (values.json) {
      console.log(JSON.stringify({ envId: outcome.envId, reward, steps: stepsUsed, best, final, trajectory }));
    } else {
      const on = final ? `step ${final.step}'s submission on the private test rows` : 'no scored submission';
      console.log(
        `\nreward ${reward.toFixed(4)} (${rewardMode}, ${on}) after ${stepsUsed} steps; trajectory ${trajectory}`,
      );
    }
    return best ? 0 : 1;
  });
}

async function exportTrajectory(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { format: { type: 'string', default: 'sft' }, out: { type: 'string' } },
  });
  const [ref] = positionals;
  if (!ref || positionals.length > 1) {
    throw usageError(EXPORT_USAGE, 'give one environment id or trajectory file');
  }
  if (values.format !== 'sft') {
    throw usageError(EXPORT_USAGE, `--format must be sft (got ${values.format})`);
  }
  const trajectories = await openTrajectories(config);
  // A file path or a store ref as printed by `env run`; else an environment id.
  const at = ref.endsWith('.jsonl') ? resolve(ref) : ref.startsWith('store:') ? ref : trajectories.refOf(ref);
  const entries = await trajectories.read(at);
  if (!entries) {
    throw inputError(`no trajectory at ${at}`, 'pass an environment id (envId) or the path of its .jsonl file');
  }
  if (entries.length === 0) {
    throw new TypedError('EmptyTrajectory', `${at} holds no steps yet`, 'export it after the session took a step');
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
  throw usageError(help, `unknown subcommand "${verb ?? ''}"; one of serve, run, export`);
}
