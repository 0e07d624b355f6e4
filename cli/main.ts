import { loadConfig } from '../config';
import { installQuietRuntime } from '../workers/runtime';
import * as config from './commands/config';
import * as dev from './commands/dev';
import * as env from './commands/env';
import * as exportCommand from './commands/export';
import * as fidelity from './commands/fidelity';
import * as forge from './commands/forge';
import * as grade from './commands/grade';
import * as importCommand from './commands/import';
import * as keys from './commands/keys';
import * as llm from './commands/llm';
import * as rollout from './commands/rollout';
import * as server from './commands/server';
import * as smoke from './commands/smoke';
import * as synth from './commands/synth';
import * as tasks from './commands/tasks';
import * as train from './commands/train';
import * as verify from './commands/verify';
import * as worker from './commands/worker';
import { reportFailure } from './failure-report';

const COMMANDS = {
  forge,
  verify,
  grade,
  tasks,
  env,
  keys,
  synth,
  rollout,
  fidelity,
  export: exportCommand,
  train,
  import: importCommand,
  smoke,
  config,
  dev,
  worker,
  server,
  llm,
} as const;

const USAGE = `anvil — verified MLE tasks, environments and rollouts for LLM agents, on Temporal

Usage: anvil <command> [options]

${Object.values(COMMANDS)
  .map((c) => c.help)
  .join('\n\n')}

Without TEMPORAL_ADDRESS, commands start (or reuse) a local Temporal dev server and run the
workers in-process; with it, they are clients of that cluster.

Exit codes: 0 ok; 1 rejected or failed by the data, package or work; 2 unusable input or usage;
3 infrastructure (Temporal, Docker or the LLM endpoint unreachable). A failure prints its root
cause, type, where it came from, the fix and the workflow's UI link; with --json, {"error": {...}}.`;

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
  // Servers (worker, dev, env serve) log failures as they happen; other commands report their own.
  installQuietRuntime({ failures: ['worker', 'dev', 'env'].includes(name) });
  return command.run(rest, config);
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFailure(`anvil ${argv[0] ?? ''}`.trim(), err, argv.includes('--json'))),
);
