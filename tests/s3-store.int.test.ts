import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe } from 'vitest';
import { createS3Store } from '../package/store/s3-store';
import { waitFor } from './helpers/containers';
import { storeContract } from './helpers/store-contract';

const MOTO = join(__dirname, '..', '.tools', 's3', 'venv', 'bin', 'moto_server');
const credentials = { accessKeyId: 'anvil-test', secretAccessKey: 'anvil-test-secret' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * The same contract as the shared folder's, against a real S3-compatible server on this host
 * (moto's, installed by `make s3-server` under .tools/s3), through the real AWS SDK.
 */
describe('the artifact store on an S3-compatible object store', () => {
  let server: ChildProcess;
  let endpoint = '';
  const bucket = 'anvil-store-test';

  beforeAll(async () => {
    if (!existsSync(MOTO)) throw new Error(`no S3 test server at ${MOTO}: run \`make s3-server\` first`);
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    server = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
    await waitFor('the S3 server to answer', () =>
      client.send(new CreateBucketCommand({ Bucket: bucket })).then(
        () => true,
        () => undefined,
      ),
    );
  }, 90_000);
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  storeContract(() =>
    createS3Store({ bucket, region: 'us-east-1', prefix: `run-${randomUUID().slice(0, 8)}/`, endpoint, credentials }),
  );
});
