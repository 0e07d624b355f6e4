import { mkdtempSync, readdirSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openStore } from '../package/store';
import { createFsStore } from '../package/store/fs-store';
import { createS3Store } from '../package/store/s3-store';
import { TypedError } from '../domain/failures';
import { storeContract } from './helpers/store-contract';

describe('the artifact store on a shared folder (fs)', () => {
  storeContract(() => createFsStore(mkdtempSync(join(tmpdir(), 'anvil-fs-store-'))));

  it('leaves no staging file behind a write', async () => {
    const root = mkdtempSync(join(tmpdir(), 'anvil-fs-store-'));
    const store = createFsStore(root);
    for (let i = 0; i < 5; i++) await store.put('a/b', `v${i}`);
    expect(readdirSync(join(root, 'a'))).toEqual(['b']);
  });
});

describe('openStore', () => {
  const config = (env: Record<string, string>) =>
    loadConfig({ ANVIL_HOME: '/srv/anvil', ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'), ...env });

  it('is the ANVIL_HOME folder by default, without session snapshots', async () => {
    expect((await openStore(config({}))).describe).toBe('fs:/srv/anvil');
    expect(config({}).store.snapshots).toBe(false);
  });

  it('is an S3 bucket with ANVIL_STORE=s3, and says which setting is missing without a bucket', async () => {
    await expect(openStore(config({ ANVIL_STORE: 's3' }))).rejects.toThrow(/store.s3.bucket is unset/);
    const store = await openStore(
      config({
        ANVIL_STORE: 's3',
        ANVIL_S3_BUCKET: 'runs',
        ANVIL_S3_ENDPOINT: 'http://minio:9000',
        ANVIL_S3_PREFIX: 'a/',
      }),
    );
    expect(store.describe).toBe('s3://runs/a/ at http://minio:9000');
  });

  it('fails as StoreUnavailable naming the bucket and endpoint when the S3 server cannot be reached', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const store = createS3Store({
      bucket: 'runs',
      region: 'us-east-1',
      prefix: '',
      endpoint: `http://127.0.0.1:${closed}`,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    const failure = await store.get('catalog/iris/CURRENT').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TypedError);
    expect((failure as TypedError).type).toBe('StoreUnavailable');
    expect((failure as TypedError).message).toContain(`s3://runs/ at http://127.0.0.1:${closed}`);
    expect((failure as TypedError).message).toMatch(/ECONNREFUSED/);
  });
});
