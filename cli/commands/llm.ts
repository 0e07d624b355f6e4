import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { LOCAL_MODEL, startLocalModel } from '../local-model';

export const help = `anvil llm serve [--port 8080] [--context 8192] [--threads N]
  Serves the local model (SmolLM2-135M-Instruct through llama-cpp-python, installed by \`make llm\`) as an
  OpenAI-compatible endpoint on 127.0.0.1 until Ctrl-C, and prints the settings that point the openai
  provider at it. A tiny model: for trying Anvil offline and testing the LLM paths, not for good tasks.`;

export async function run(argv: string[], _config: AnvilConfig): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8080' },
      context: { type: 'string', default: String(LOCAL_MODEL.contextTokens) },
      threads: { type: 'string' },
    },
    strict: true,
  });
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    console.error(`anvil llm: expected \`anvil llm serve\`\n\n${help}`);
    return 2;
  }
  const numbers = { port: Number(values.port), context: Number(values.context), threads: Number(values.threads ?? 1) };
  const bad = Object.entries(numbers).find(([, n]) => !Number.isInteger(n) || n <= 0);
  if (bad) {
    console.error(`anvil llm serve: --${bad[0]} must be a positive whole number`);
    return 2;
  }
  const model = await startLocalModel({
    port: numbers.port,
    contextTokens: numbers.context,
    threads: values.threads ? numbers.threads : undefined,
  });
  console.log(`${LOCAL_MODEL.name} answers on ${model.url}; in another shell:`);
  console.log(
    Object.entries(model.env)
      .map(([k, v]) => `export ${k}=${v}`)
      .join('\n'),
  );
  console.log('then e.g. `anvil forge example:penguins --provider openai`. Ctrl-C stops the server.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    model.process.once('exit', () => resolve());
  });
  await model.stop();
  return model.process.exitCode && model.process.exitCode !== 0 && model.process.signalCode === null ? 3 : 0;
}
