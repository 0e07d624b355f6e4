import { ConfigError, loadConfig } from '../config';
import { installQuietRuntime } from '../workers/runtime';
import * as config from './commands/config';
import * as dev from './commands/dev';
import * as env from './commands/env';
import * as forge from './commands/forge';
import * as grade from './commands/grade';
import * as importCommand from './commands/import';
import * as rollout from './commands/rollout';
import * as server from './commands/server';
import * as smoke from './commands/smoke';
import * as synth from './commands/synth';
import * as tasks from './commands/tasks';
import * as train from './commands/train';
import * as verify from './commands/verify';
import * as worker from './commands/worker';

const COMMANDS = { forge, verify, grade, tasks, env, synth, rollout, train, import: importCommand, smoke, config, dev, worker, server } as const;

const USAGE = `anvil — verified MLE tasks, environments and rollouts for LLM agents, on Temporal

Usage: anvil <command> [options]

${Object.values(COMMANDS).map((c) => c.help).join('\n\n')}

Without TEMPORAL_ADDRESS, commands start (or reuse) a local Temporal dev server and run the
workers in-process; with it, they are clients of that cluster.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  if (!command) {
    console.error(`anvil: unknown command "${name}"; run \`anvil --help\` for the list`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  const config = loadConfig();
  installQuietRuntime();
  return command.run(rest, config);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`anvil: ${(err as Error).message}`);
      process.exit(2);
    }
    console.error(`anvil: ${(err as Error).message ?? err}`);
    if (process.env.ANVIL_DEBUG) console.error(err);
    process.exit(1);
  },
);
