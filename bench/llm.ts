// What each LLM role costs and how often it answers right, through a recording proxy in front of the
// endpoint: calls, tokens in/out, seconds, share of replies valid on the first ask, re-asks, replies cut
// at the token limit, and the cost per task at a price per million tokens.
// Then the `openai` policy plays a rollout on a verified fixture task (iris-species): the same figures per episode.
// Usage: npx tsx bench/llm.ts [--datasets iris,penguins] [--tasks 1] [--price-in 0.15] [--price-out 0.6] [--endpoint]
//   [--rollout-samples 4] [--rollout-steps 2]   (--datasets '' skips the forge, --rollout-samples 0 the rollout)
// Without --endpoint it starts the local model (`make llm`); with it, OPENAI_BASE_URL / ANVIL_MODEL are used.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LocalModel, startLocalModel } from '../cli/local-model';
import { createRolloutService } from '../client/rollouts';
import type { ForgeResult } from '../domain/forge';
import { taskQueueName } from '../domain/queues';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset, verifyPackage } from '../workflows';
import { materializePackage } from '../tests/helpers/fixture-packages';
import { feedbackIn, type RecordedCall, startLlmRecorder } from '../tests/helpers/llm-recorder';
import { type Embedded, startEmbedded } from './embedded';

const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'iris,penguins' },
    tasks: { type: 'string', default: '1' },
    'price-in': { type: 'string', default: '0.15' },
    'price-out': { type: 'string', default: '0.6' },
    endpoint: { type: 'boolean', default: false },
    'rollout-samples': { type: 'string', default: '4' },
    'rollout-steps': { type: 'string', default: '2' },
  },
});
const priceIn = Number(values['price-in']);
const priceOut = Number(values['price-out']);

/** The last error the client fed back (a role's schema error, the policy's refused call): what the model got wrong. */
function feedbackOf(call: RecordedCall): string {
  const messages = call.request.messages as { content?: string }[];
  const text = [...messages]
    .reverse()
    .find((m) => /does not match the required JSON schema|^Error: /.test(m.content ?? ''))?.content;
  return (text?.startsWith('Error: ') ? text : (text?.split('\n')[1] ?? '')).slice(0, 110);
}

/** A verified fixture package published into the bench's catalog (as tests/helpers/dojo.ts does): its id. */
async function publishFixture(embedded: Embedded, name: string): Promise<string> {
  const source = await materializePackage(name, join(embedded.config.paths.home, 'fixtures', name));
  const report = await embedded.client.workflow.execute<typeof verifyPackage>('verifyPackage', {
    taskQueue: taskQueueName(embedded.config.taskQueuePrefix, 'control'),
    workflowId: `bench-llm-verify-${name}-${Date.now()}`,
    args: [{ sourceDir: source }],
  });
  if (report.status !== 'verified') throw new Error(`fixture ${name} did not verify`);
  cpSync(report.packageDir, join(embedded.config.paths.catalog, name), { recursive: true });
  return name;
}

function table(calls: RecordedCall[], tasks: number, per = 'Task') {
  const roles = [...new Set(calls.map((c) => c.role))];
  const rows = roles.map((role) => {
    const mine = calls.filter((c) => c.role === role && c.status === 200);
    const firsts = mine.filter((c) => !c.reask).length;
    // a re-ask carrying exactly one fed-back error follows a first ask that was invalid
    const invalidFirsts = mine.filter((c) => feedbackIn(c.request) === 1).length;
    const tokensIn = mine.reduce((s, c) => s + c.promptTokens, 0);
    const tokensOut = mine.reduce((s, c) => s + c.completionTokens, 0);
    return {
      role,
      calls: mine.length,
      errors: calls.filter((c) => c.role === role && c.status !== 200).length,
      tokensIn,
      tokensOut,
      seconds: +mine.reduce((s, c) => s + c.seconds, 0).toFixed(1),
      validFirstTry: firsts ? `${Math.round((100 * (firsts - invalidFirsts)) / firsts)}%` : '-',
      reasks: mine.filter((c) => c.reask).length,
      cutAtLimit: mine.filter((c) => c.finishReason === 'length').length,
      [`usdPer${per}`]: +((tokensIn * priceIn + tokensOut * priceOut) / 1e6 / Math.max(1, tasks)).toFixed(6),
    };
  });
  console.table(rows);
  const total = rows.reduce((s, r) => s + Number(r[`usdPer${per}`]), 0);
  console.log(
    `cost per ${per.toLowerCase()} at $${priceIn}/$${priceOut} per million tokens in/out: $${total.toFixed(6)}`,
  );
}

async function main() {
  let model: LocalModel | undefined;
  const target = values.endpoint ? process.env.OPENAI_BASE_URL : (model = await startLocalModel()).url;
  if (!target) throw new Error('--endpoint needs OPENAI_BASE_URL (and OPENAI_API_KEY, ANVIL_MODEL)');
  const recorder = await startLlmRecorder(target);
  const settings = {
    ...(model?.env ?? {
      OPENAI_API_KEY: process.env.OPENAI_API_KEY ?? 'none',
      ANVIL_MODEL: process.env.ANVIL_MODEL ?? 'gpt-4o-mini',
    }),
    OPENAI_BASE_URL: recorder.url,
    ANVIL_LLM_MAX_TOKENS: process.env.ANVIL_LLM_MAX_TOKENS ?? '512',
    ANVIL_LLM_OUTPUT_RETRIES: process.env.ANVIL_LLM_OUTPUT_RETRIES ?? '1',
    // a small model on a busy CPU can take minutes per reply
    ANVIL_LLM_TIMEOUT_S: process.env.ANVIL_LLM_TIMEOUT_S ?? '600',
  };
  const embedded = await startEmbedded(['control', 'llm', 'cpu'], settings);
  let tasks = 0;
  try {
    for (const name of values.datasets!.split(',').filter(Boolean)) {
      const started = Date.now();
      const outcome = await embedded.client.workflow
        .execute<typeof forgeDataset>('forgeDataset', {
          taskQueue: taskQueueName(embedded.config.taskQueuePrefix, 'control'),
          workflowId: `bench-llm-${name}-${Date.now()}`,
          args: [
            {
              dataset: await exampleDatasetPath(name, join(embedded.config.paths.home, 'examples')),
              name,
              catalogDir: embedded.config.paths.catalog,
              maxTasks: Number(values.tasks),
              provider: 'openai',
              repairRounds: 0,
            },
          ],
        })
        .then(
          (r: ForgeResult) => r,
          (err: Error) => err,
        );
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      if (outcome instanceof Error) {
        tasks += 1;
        const cause = (outcome.cause as Error | undefined)?.cause as Error | undefined;
        console.log(`${name}: forge failed in ${seconds} s: ${(cause ?? outcome).message.slice(0, 300)}`);
      } else {
        tasks += outcome.tasks.length;
        for (const task of outcome.tasks)
          console.log(
            `${name}: ${task.id} ${task.status} in ${seconds} s; failed: ${task.failedChecks.join('; ').slice(0, 300)}`,
          );
      }
    }
    const samples = Number(values['rollout-samples']);
    let episodes = 0;
    if (samples > 0) {
      const task = await publishFixture(embedded, 'iris-species');
      const rollouts = createRolloutService({
        client: embedded.client,
        controlQueue: taskQueueName(embedded.config.taskQueuePrefix, 'control'),
        catalogDir: embedded.config.paths.catalog,
        endpoints: { defaultUrl: embedded.config.llm.baseUrl, allowed: [] },
      });
      const started = Date.now();
      const result = await rollouts.run({
        tasks: [task],
        samplesPerTask: samples,
        maxSteps: Number(values['rollout-steps']),
        policy: { kind: 'openai', temperature: 1, seed: 0, logprobs: true },
      });
      episodes = result.episodes.length;
      console.log(`rollout on ${task}: ${episodes} episodes in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      for (const e of result.episodes)
        console.log(`  sample ${e.sample}: ${e.status}, ${e.steps} steps, reward ${e.reward}; ${e.error ?? ''}`);
    }
    const forgeCalls = recorder.calls.filter((c) => c.role !== 'policy');
    console.log(`\n${forgeCalls.length} calls for ${tasks} task(s) (a failed forge counts as one)`);
    table(forgeCalls, tasks);
    const policyCalls = recorder.calls.filter((c) => c.role === 'policy');
    if (policyCalls.length) {
      console.log(`\n${policyCalls.length} policy calls for ${episodes} episode(s)`);
      table(policyCalls, episodes, 'Episode');
    }
    console.log('\nwhat the re-asks fed back (first line each):');
    for (const call of recorder.calls.filter((c) => c.reask)) console.log(`  ${call.role}: ${feedbackOf(call)}`);
  } finally {
    await embedded.stop().catch((err: unknown) => console.error(`(cleaning up: ${(err as Error).message})`));
    await recorder.close();
    await model?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
