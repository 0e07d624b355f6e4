import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogActivities } from '../activities/catalog';
import { createEnvControlActivities } from '../activities/env/control';
import { createSynthPackageActivities } from '../activities/synth-package';
import { createTemporalEnvService } from '../client/temporal-envs';
import { loadConfig } from '../config';
import type { Catalog } from '../package/catalog';
import { materializeCatalogPath, openCatalog, openCatalogs } from '../package/open-catalog';
import type { ArtifactStore } from '../package/store';
import { createS3Store } from '../package/store/s3-store';
import { createTestEnv } from './helpers/env';
import { openTrajectories } from '../package/trajectories';
import { S3_TEST_CREDENTIALS, type S3TestServer, startS3TestServer } from './helpers/s3-test-server';
import { publishPreparedIris } from './helpers/prepared-iris';

const scratch = () => mkdtempSync(join(tmpdir(), 'anvil-s3-catalog-'));

/** Every file of a folder, by relative path, with its text. */
function treeOf(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return Object.fromEntries(
    files.map((e) => [relative(dir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name), 'utf8')]),
  );
}

/** The store, counting its GETs and full listings, with a gate the tree pointer's PUT can be held at. */
function instrumented(store: ArtifactStore) {
  const counts = { get: 0, list: 0 };
  let gate: Promise<void> | undefined;
  let reached: () => void = () => undefined;
  const wrapped: ArtifactStore = {
    describe: store.describe,
    get: (key) => (counts.get++, store.get(key)),
    list: (prefix) => (counts.list++, store.list(prefix)),
    children: (prefix) => store.children(prefix),
    listVersions: (prefix) => store.listVersions(prefix),
    remove: (key) => store.remove(key),
    async put(key, body) {
      if (gate && key.endsWith('/CURRENT')) {
        reached();
        await gate;
      }
      return store.put(key, body);
    },
  };
  return {
    store: wrapped,
    counts,
    /** holds the next pointer PUTs until `release`; resolves once one is held */
    hold(): { held: Promise<void>; release: () => void } {
      let release: () => void = () => undefined;
      gate = new Promise<void>((r) => (release = r));
      const held = new Promise<void>((r) => (reached = r));
      return { held, release: () => ((gate = undefined), release()) };
    },
  };
}

/**
 * The catalog on an S3-compatible store (moto's, through the real AWS SDK): two hosts, each with
 * its own local catalog folder and no shared one, see the same tasks through the bucket.
 */
describe('the catalog on the artifact store (store.backend s3)', () => {
  const bucket = 'anvil-catalog-test';
  let moto: S3TestServer;
  let shared: ArtifactStore;

  beforeAll(async () => {
    moto = await startS3TestServer(bucket);
  }, 90_000);
  afterAll(() => moto?.stop());

  /** A host's config in S3 mode: its own ANVIL_HOME (so its own catalog folder), the test bucket. */
  const hostConfig = () =>
    loadConfig({
      ANVIL_HOME: scratch(),
      ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'),
      ANVIL_STORE: 's3',
      ANVIL_S3_BUCKET: bucket,
    });

  /** Hosts A and B over one fresh prefix of the bucket; B's store is instrumented. */
  async function twoHosts() {
    shared = createS3Store({
      bucket,
      region: 'us-east-1',
      prefix: `run-${randomUUID().slice(0, 8)}/`,
      endpoint: moto.endpoint,
      credentials: S3_TEST_CREDENTIALS,
    });
    const onB = instrumented(shared);
    const onA = instrumented(shared);
    const host = (store: ArtifactStore): Promise<Catalog> => openCatalog(hostConfig(), { store });
    return { a: await host(onA.store), b: await host(onB.store), onA, onB };
  }

  /** The iris task as a package to publish, with design notes that must not be published. */
  function irisPackage(id: string, flavour: string): string {
    const dir = publishPreparedIris(scratch(), id);
    writeFileSync(join(dir, 'description.md'), `# Iris, ${flavour}\n`);
    writeFileSync(join(dir, 'private', 'answers.csv'), `id,species\n101,${flavour}\n`);
    writeFileSync(join(dir, 'design.json'), '{"notes":"the designer\'s"}');
    const manifest = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'task.json'), JSON.stringify({ ...manifest, title: `Iris ${flavour}` }));
    return dir;
  }
  const published = (pkg: string) => {
    const files = treeOf(pkg);
    delete files['design.json'];
    return files;
  };

  it('publishes on host A; host B lists it and resolves the whole task, answers private, with one GET when current', async () => {
    const { a, b, onB } = await twoHosts();
    const pkg = irisPackage('iris-s3', 'first');
    const onA = await a.publish(pkg);
    expect(onA).toBe(join(a.dir, 'iris-s3'));
    expect(treeOf(onA)).toEqual(published(pkg));

    expect((await b.list()).map((e) => [e.id, e.manifest.title, e.path])).toEqual([
      ['iris-s3', 'Iris first', join(b.dir, 'iris-s3')],
    ]);
    expect((await b.summaries()).map((s) => s.id)).toEqual(['iris-s3']);
    expect(onB.counts.list).toBe(0); // one level of the bucket listed, not every file of every task
    expect(existsSync(join(b.dir, 'iris-s3'))).toBe(false); // listing fetches no task
    const local = await b.resolve('iris-s3');
    expect(local).toBe(join(b.dir, 'iris-s3'));
    expect(treeOf(local!)).toEqual(published(pkg));
    expect(existsSync(join(local!, 'design.json'))).toBe(false);
    expect(statSync(join(local!, 'private')).mode & 0o077).toBe(0);
    expect(statSync(join(local!, 'private', 'answers.csv')).mode & 0o077).toBe(0);
    expect(statSync(join(local!, 'public', 'train.csv')).mode & 0o044).toBe(0o044);
    expect(readdirSync(b.dir).filter((n) => n.startsWith('.staging') || n.startsWith('.old'))).toEqual([]);

    const before = onB.counts.get;
    expect(await b.resolve('iris-s3')).toBe(local);
    expect(onB.counts.get - before).toBe(1); // the pointer only
    expect(await b.resolve('no-such-task')).toBeUndefined();
    expect(await b.resolve('../escape')).toBeUndefined();
  });

  it('shows host B a republish of the same id (a new version), in its listing and its local copy', async () => {
    const { a, b } = await twoHosts();
    await a.publish(irisPackage('iris-again', 'first'));
    const local = (await b.resolve('iris-again'))!;
    expect(readFileSync(join(local, 'description.md'), 'utf8')).toBe('# Iris, first\n');
    const marker = readFileSync(join(b.dir, '.versions', 'iris-again'), 'utf8');

    const second = irisPackage('iris-again', 'second');
    await a.publish(second);
    expect((await b.list()).map((e) => e.manifest.title)).toEqual(['Iris second']);
    // a file in the task, as a sandbox host's activity would name it
    await materializeCatalogPath(b, join(local, 'public', 'train.csv'));
    expect(treeOf(local)).toEqual(published(second));
    expect(readFileSync(join(b.dir, '.versions', 'iris-again'), 'utf8')).not.toBe(marker);
    expect(await b.resolve('iris-again')).toBe(local);

    // several activities on B asking at once after a third publish: one whole copy, nothing left over
    const third = irisPackage('iris-again', 'third');
    await a.publish(third);
    const asked = await Promise.all([1, 2, 3, 4].map(() => b.resolve('iris-again')));
    expect(new Set(asked)).toEqual(new Set([local]));
    expect(treeOf(local)).toEqual(published(third));
    expect(readdirSync(b.dir).sort()).toEqual(['.versions', 'iris-again']);
  });

  it('shows a reader during a publish the old task or the new one, never a mix', async () => {
    const { a, b, onA } = await twoHosts();
    const first = irisPackage('iris-racing', 'first');
    await a.publish(first);
    const second = irisPackage('iris-racing', 'second');
    const { held, release } = onA.hold();
    const publishing = a.publish(second);
    await held; // every file of the new version is in the bucket; its pointer is not yet
    expect((await b.list()).map((e) => e.manifest.title)).toEqual(['Iris first']);
    expect(treeOf((await b.resolve('iris-racing'))!)).toEqual(published(first));
    release();
    await publishing;
    expect((await b.list()).map((e) => e.manifest.title)).toEqual(['Iris second']);
    expect(treeOf((await b.resolve('iris-racing'))!)).toEqual(published(second));
  });

  it("routes the control activities through it: A's publishTask, then B's openTask and Synth's readSeed", async () => {
    await twoHosts();
    const [configA, configB] = [hostConfig(), hostConfig()];
    const onA = createCatalogActivities({
      artifactsDir: configA.paths.artifacts,
      catalogs: await openCatalogs(configA, shared),
    });
    const catalogsB = await openCatalogs(configB, shared);
    const envB = createEnvControlActivities({
      trajectories: await openTrajectories(configB),
      catalogs: catalogsB,
      roots: [configB.paths.home],
    });
    const synthB = createSynthPackageActivities({ artifactsDir: configB.paths.artifacts, catalogs: catalogsB });
    const pkg = irisPackage('iris-routed', 'routed');
    expect(await onA.publishTask({ packageDir: pkg, catalogDir: configA.paths.catalog })).toBe(
      join(configA.paths.catalog, 'iris-routed'),
    );

    const { task } = await envB.openTask({ envId: 'env-iris-routed-1', taskId: 'iris-routed' });
    expect([task.taskId, task.title, task.packageDir]).toEqual([
      'iris-routed',
      'Iris routed',
      join(configB.paths.catalog, 'iris-routed'),
    ]);
    expect(treeOf(join(configB.paths.catalog, 'iris-routed'))).toEqual(published(pkg));
    const { seedFile } = await synthB.readSeed({
      seedTaskId: 'iris-routed',
      catalogDir: configB.paths.catalog,
      synthId: 's1',
    });
    expect((JSON.parse(readFileSync(seedFile, 'utf8')) as { taskId: string }).taskId).toBe('iris-routed');
    await expect(envB.openTask({ envId: 'env-none-1', taskId: 'no-such-task' })).rejects.toThrow();
  });

  it("plays, on host B's Temporal workers, a task published on host A: listed, opened, its overview read", async () => {
    // The workers open the store as a deployment does: settings from the config, keys from AWS_* (this file's process).
    process.env.AWS_ACCESS_KEY_ID = S3_TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3_TEST_CREDENTIALS.secretAccessKey;
    const s3 = { ...moto.env, ANVIL_S3_PREFIX: `dojo-${randomUUID().slice(0, 8)}/` };
    const t = await createTestEnv(s3);
    try {
      await t.startWorker('control');
      const a = await openCatalog(
        loadConfig({ ANVIL_HOME: scratch(), ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'), ...s3 }),
      );
      await a.publish(irisPackage('iris-dojo', 'played'));
      const b = await openCatalog(t.config);
      const envs = createTemporalEnvService({
        client: t.client,
        controlQueue: t.controlQueue,
        catalogDir: t.config.paths.catalog,
        listTasks: () => b.summaries(),
        defaults: { budget: { steps: 5, wallTimeS: 600, idleTimeoutS: 120 }, rewardMode: 'position' },
      });
      expect((await envs.listTasks()).map((x) => x.id)).toEqual(['iris-dojo']);
      expect(existsSync(join(t.config.paths.catalog, 'iris-dojo'))).toBe(false);

      const { envId, observation } = await envs.create({ taskId: 'iris-dojo' });
      expect(JSON.stringify(observation)).toContain('Iris, played');
      const info = await envs.step(envId, { action: 'request_info', params: { kind: 'data' } });
      expect(JSON.stringify(info.observation)).toContain('sepal');
      expect(existsSync(join(t.config.paths.catalog, 'iris-dojo', 'private', 'answers.csv'))).toBe(true);
      await envs.close(envId);
    } finally {
      await t.close();
    }
  });
});
