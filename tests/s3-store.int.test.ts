import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { createS3Store } from '../package/store/s3-store';
import { S3_TEST_CREDENTIALS as credentials, startS3TestServer } from './helpers/s3-test-server';
import { storeContract } from './helpers/store-contract';

/**
 * The same contract as the shared folder's, against a real S3-compatible server on this host
 * (moto's, installed by `make s3-server` under .tools/s3), through the real AWS SDK.
 */
describe('the artifact store on an S3-compatible object store', () => {
  let server: Awaited<ReturnType<typeof startS3TestServer>> | undefined;
  let endpoint = '';
  const bucket = 'anvil-store-test';

  beforeAll(async () => {
    server = await startS3TestServer(bucket);
    endpoint = server.endpoint;
  }, 90_000);
  afterAll(() => {
    server?.stop();
  });

  storeContract(() =>
    createS3Store({ bucket, region: 'us-east-1', prefix: `run-${randomUUID().slice(0, 8)}/`, endpoint, credentials }),
  );
});
