import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { waitFor } from './containers';

const MOTO = join(__dirname, '..', '..', '.tools', 's3', 'venv', 'bin', 'moto_server');
export const S3_TEST_CREDENTIALS = { accessKeyId: 'anvil-test', secretAccessKey: 'anvil-test-secret' };

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** env vars that point a worker process (or loadConfig) at this bucket in S3 mode */
  env: Record<string, string>;
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** moto's S3-compatible server (`make s3-server`) on a free port of this host, with one empty bucket. */
export async function startS3TestServer(bucket: string): Promise<S3TestServer> {
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
  return {
    endpoint,
    bucket,
    env: {
      ANVIL_STORE: 's3',
      ANVIL_S3_ENDPOINT: endpoint,
      ANVIL_S3_BUCKET: bucket,
      ANVIL_S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
    },
    stop: () => server.kill('SIGTERM'),
  };
}
