import { Client, Connection } from '@temporalio/client';
import type { AnvilConfig } from '../config';
import { type DevServer, ensureDevServer } from './dev-server';

/** How this process reaches Temporal. Workers open their own native connection to `address`. */
export interface TemporalConnection {
  address: string;
  client: Client;
  /** set when no TEMPORAL_ADDRESS was given and Anvil started or reused a local dev server */
  devServer?: DevServer;
  /** the Web UI, when known */
  uiUrl?: string;
  close(): Promise<void>;
}

/**
 * Connects to TEMPORAL_ADDRESS, or (the embedded default) to a local dev server that it starts
 * or reuses. `detachServer` leaves a server it starts running after this process ends.
 */
export async function connectTemporal(
  config: AnvilConfig,
  { detachServer }: { detachServer: boolean },
): Promise<TemporalConnection> {
  const { temporal } = config;
  let devServer: DevServer | undefined;
  let address = temporal.address;
  if (!address) {
    devServer = await ensureDevServer({
      port: temporal.devServer.port,
      uiPort: temporal.devServer.uiPort,
      dbFile: temporal.devServer.dbFile,
      namespace: temporal.namespace,
      detached: detachServer,
      home: config.paths.home,
    });
    address = devServer.address;
  }
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${(err as Error).message}`);
  }
  return {
    address,
    client: new Client({ connection, namespace: temporal.namespace }),
    devServer,
    uiUrl: temporal.uiUrl ?? (devServer ? `http://localhost:${temporal.devServer.uiPort}` : undefined),
    close: () => connection.close(),
  };
}
