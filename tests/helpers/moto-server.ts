import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { waitFor } from './containers';

const MOTO = join(__dirname, '..', '..', '.tools', 's3', 'venv', 'bin', 'moto_server');
export const TEST_S3_CREDENTIALS = { accessKeyId: 'anvil-test', secretAccessKey: 'anvil-test-secret' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A real S3-compatible server on this host (moto's, `make s3-server`) on a free port, with `bucket` made. */
export async function startMoto(bucket: string): Promise<{ endpoint: string; stop(): void }> {
  if (!existsSync(MOTO)) throw new Error(`no S3 test server at ${MOTO}: run \`make s3-server\` first`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: TEST_S3_CREDENTIALS,
  });
  try {
    await waitFor('the S3 server to answer', () =>
      client.send(new CreateBucketCommand({ Bucket: bucket })).then(
        () => true,
        () => undefined,
      ),
    );
  } catch (err) {
    server.kill('SIGTERM');
    throw err;
  }
  return { endpoint, stop: () => server.kill('SIGTERM') };
}
