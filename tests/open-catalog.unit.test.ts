import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { materializeCatalogPath, openCatalog, openCatalogs, resolveTaskIn } from '../package/open-catalog';
import { publishPreparedIris } from './helpers/prepared-iris';

const config = (env: Record<string, string>) =>
  loadConfig({ ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'), ...env });

describe('openCatalog', () => {
  it('is the paths.catalog folder by default (fs), or the named one: today’s functions', async () => {
    const home = mkdtempSync(join(tmpdir(), 'anvil-catalog-'));
    const catalog = await openCatalog(config({ ANVIL_HOME: home }));
    expect([catalog.kind, catalog.dir]).toEqual(['fs', config({ ANVIL_HOME: home }).paths.catalog]);
    const other = join(home, 'other');
    const task = publishPreparedIris(other, 'iris-here');
    const named = (await openCatalogs(config({ ANVIL_HOME: home })))(other);
    expect((await named.list()).map((e) => [e.id, e.path])).toEqual([['iris-here', task]]);
    expect((await named.summaries()).map((s) => s.id)).toEqual(['iris-here']);
    expect(await named.resolve('iris-here')).toBe(task);
    expect(await named.resolve('iris-gone')).toBeUndefined();
    expect(await resolveTaskIn(catalog, task)).toBe(task); // a package folder, wherever it is
  });

  it('leaves a path alone on a folder catalog: nothing made, nothing asked', async () => {
    const home = mkdtempSync(join(tmpdir(), 'anvil-catalog-'));
    const catalog = await openCatalog(config({ ANVIL_HOME: home }));
    await materializeCatalogPath(catalog, join(catalog.dir, 'iris-species', 'public', 'train.csv'));
    expect(existsSync(catalog.dir)).toBe(false);
  });

  it('opens the store for ANVIL_STORE=s3, and says which setting is missing without a bucket', async () => {
    await expect(openCatalog(config({ ANVIL_STORE: 's3' }))).rejects.toThrow(/store.s3.bucket is unset/);
    const s3 = config({ ANVIL_STORE: 's3', ANVIL_S3_BUCKET: 'tasks', ANVIL_S3_ENDPOINT: 'http://minio:9000' });
    const catalog = await openCatalog(s3);
    expect([catalog.kind, catalog.dir]).toEqual(['store', s3.paths.catalog]);
    expect(catalog.describe).toBe(`catalog/ in s3://tasks/anvil/ at http://minio:9000 (cached in ${s3.paths.catalog})`);
    // one catalog object per folder: its manifest cache is shared
    const catalogs = await openCatalogs(s3);
    expect(catalogs()).toBe(catalogs(s3.paths.catalog));
  });
});
