import type { ChildProcess } from 'node:child_process';
import { connectTemporal } from '../../client';
import type { AnvilConfig } from '../../config';
import { embeddedKinds } from '../../workers';
import { startWorkers } from '../../workers/in-process';
import { inputError } from '../failure-report';

export const help = `anvil dev
  Runs a local Temporal dev server (or reuses one on the configured port) and every worker
  in the foreground until Ctrl-C. Prints the Web UI address.`;

export async function run(_argv: string[], config: AnvilConfig): Promise<number> {
  if (config.temporal.address) {
    const hint = 'unset TEMPORAL_ADDRESS, or use `anvil worker --queue …` against that cluster';
    throw inputError(`anvil dev runs its own local server; TEMPORAL_ADDRESS=${config.temporal.address} is set`, hint);
  }
  const temporal = await connectTemporal(config, { detachServer: false });
  try {
    const kinds = embeddedKinds({ config });
    const workers = await startWorkers(temporal, config, kinds);
    console.log(
      `Temporal ${temporal.devServer?.reused ? 'dev server reused' : 'dev server started'} at ${temporal.address}`,
    );
    console.log(`Web UI: ${temporal.uiUrl}`);
    console.log(`workers: ${kinds.map((k) => `${config.taskQueuePrefix}-${k}`).join(', ')} — Ctrl-C to stop`);
    // The SDK's runtime shuts the workers down on SIGINT/SIGTERM.
    await workers.run();
  } finally {
    await temporal.close();
    await stopServer(temporal.devServer?.process);
  }
  return 0;
}

/** Stops the dev server this command started and waits until it is gone (SIGKILL after 10 s). */
async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((done) => server.once('exit', done));
  server.kill('SIGTERM');
  const stopped = await Promise.race([gone.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
  if (!stopped) server.kill('SIGKILL');
}
