// What each LLM role costs and how often it answers right, through a recording proxy in front of the
// endpoint: calls, tokens in/out, seconds, share of replies valid on the first ask, re-asks, replies cut
// at the token limit, and the cost per task at a price per million tokens.
// Usage: npx tsx bench/llm.ts [--datasets iris,penguins] [--tasks 1] [--price-in 0.15] [--price-out 0.6] [--endpoint]
// Without --endpoint it starts the local model (`make llm`); with it, OPENAI_BASE_URL / ANVIL_MODEL are used.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LocalModel, startLocalModel } from '../cli/local-model';
import type { ForgeResult } from '../domain/forge';
import { taskQueueName } from '../domain/queues';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
import { type RecordedCall, startLlmRecorder } from '../tests/helpers/llm-recorder';
import { startEmbedded } from './embedded';

const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'iris,penguins' },
    tasks: { type: 'string', default: '1' },
    'price-in': { type: 'string', default: '0.15' },
    'price-out': { type: 'string', default: '0.6' },
    endpoint: { type: 'boolean', default: false },
  },
});
const priceIn = Number(values['price-in']);
const priceOut = Number(values['price-out']);

/** The schema error the client fed back, first line: what the model got wrong. */
const feedbackOf = (call: RecordedCall) =>
  String((call.request.messages as { content?: string }[]).at(-1)?.content ?? '')
    .split('\n')[1]
    ?.slice(0, 110);

function table(calls: RecordedCall[], tasks: number) {
  const roles = [...new Set(calls.map((c) => c.role))];
  const rows = roles.map((role) => {
    const mine = calls.filter((c) => c.role === role && c.status === 200);
    const firsts = mine.filter((c) => !c.reask).length;
    // a re-ask carrying exactly one fed-back error follows a first ask that was invalid
    const invalidFirsts = mine.filter(
      (c) =>
        c.reask &&
        (c.request.messages as { content?: string }[]).filter((m) =>
          /does not match the required JSON schema/.test(m.content ?? ''),
        ).length === 1,
    ).length;
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
      usdPerTask: +((tokensIn * priceIn + tokensOut * priceOut) / 1e6 / Math.max(1, tasks)).toFixed(6),
    };
  });
  console.table(rows);
  const total = rows.reduce((s, r) => s + r.usdPerTask, 0);
  console.log(`cost per task at $${priceIn}/$${priceOut} per million tokens in/out: $${total.toFixed(6)}`);
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
    for (const name of values.datasets!.split(',')) {
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
    console.log(`\n${recorder.calls.length} calls for ${tasks} task(s) (a failed forge counts as one)`);
    table(recorder.calls, tasks);
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
