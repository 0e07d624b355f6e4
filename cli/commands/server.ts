import type { AnvilConfig } from '../../config';
import { stopDevServer } from '../../client/dev-server';
import { usageError } from '../failure-report';

export const help = `anvil server stop
  Stops the local Temporal dev server that a command left running (its data stays in the db file).`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  if (argv[0] !== 'stop') {
    throw usageError(help);
  }
  const stopped = stopDevServer(config.paths.home, config.temporal.devServer.port);
  console.log(stopped ? 'Temporal dev server stopped' : 'no Temporal dev server started by Anvil is running');
  return 0;
}
