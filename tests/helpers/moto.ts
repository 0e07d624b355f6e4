import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { waitFor } from './containers';

const MOTO = join(__dirname, '..', '..', '.tools', 's3', 'venv', 'bin', 'moto_server');
/** what the test server accepts; worker and CLI processes get them as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'anvil-test', secretAccessKey: 'anvil-test-secret' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A real S3-compatible server on a free local port (moto's, installed by `make s3-server` under
 * .tools/s3) holding an empty `bucket`; `stop` ends it.
 */
export async function startS3Server(bucket: string): Promise<{ endpoint: string; stop: () => void }> {
  if (!existsSync(MOTO)) throw new Error(`no S3 test server at ${MOTO}: run \`make s3-server\` first`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3_TEST_CREDENTIALS,
  });
  await waitFor('the S3 server to answer', () =>
    client.send(new CreateBucketCommand({ Bucket: bucket })).then(
      () => true,
      () => undefined,
    ),
  );
  return { endpoint, stop: () => server.kill('SIGTERM') };
}
