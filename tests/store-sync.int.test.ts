import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSandboxActivities } from '../activities/sandbox';
import { storeSynced } from '../activities/store-sync';
import { taskQueueName } from '../domain/queues';
import type { ArtifactStore } from '../package/store';
import { createStoreMirror } from '../package/store/mirror';
import { createS3Store } from '../package/store/s3-store';
import { DockerSandbox } from '../sandbox/docker';
import type { sandboxRun } from '../workflows';
import { createTestEnv, type TestEnv } from './helpers/env';
import { S3_TEST_CREDENTIALS, type S3TestServer, startS3TestServer } from './helpers/s3-test-server';

/** The store, counting the objects read and written through it (the thing under test is the mirror). */
function counting(store: ArtifactStore) {
  const counts = { get: 0, put: 0 };
  const counted: ArtifactStore = {
    ...store,
    get: (key) => (counts.get++, store.get(key)),
    put: (key, body) => (counts.put++, store.put(key, body)),
  };
  return { store: counted, counts };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Two "hosts" that share no folder: each its own `paths.home`, one bucket. Each host's activities
 * are wrapped as its worker wraps them in S3 mode (`storeSynced`); a path one host returns is given
 * to the other as the same path under its own home, as hosts with one layout see it.
 */
describe('run artifacts through the store (S3 mode)', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3TestServer('anvil-sync-test');
  }, 90_000);
  afterAll(() => s3?.stop());

  function host(prefix: string) {
    const home = mkdtempSync(join(tmpdir(), 'anvil-sync-host-'));
    const artifacts = join(home, 'artifacts');
    const catalog = join(home, 'catalog');
    const { store, counts } = counting(
      createS3Store({
        bucket: s3.bucket,
        region: 'us-east-1',
        prefix,
        endpoint: s3.endpoint,
        credentials: S3_TEST_CREDENTIALS,
      }),
    );
    const mirror = createStoreMirror(store, { home, artifacts });
    const catalogPaths: string[] = [];
    const prepareCatalogPath = async (path: string) => void catalogPaths.push(path);
    return {
      home,
      artifacts,
      catalog,
      store,
      counts,
      catalogPaths,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      synced: <T extends Record<string, (...args: any[]) => Promise<unknown>>>(activities: T) =>
        storeSynced(activities, { mirror, artifacts, catalog, prepareCatalogPath }),
    };
  }
  type Host = ReturnType<typeof host>;
  /** Two hosts on one fresh prefix of the bucket. */
  const hosts = (): [Host, Host] => {
    const prefix = `sync-${randomUUID().slice(0, 8)}/`;
    return [host(prefix), host(prefix)];
  };
  /** `path` of host `from` as host `to` names it. */
  const on = (to: Host, from: Host, path: string) => join(to.home, relative(from.home, path));

  /** Host A's activities: a draft folder with text and binary files, and a dataset folder. */
  const writers = (a: Host) =>
    a.synced({
      async writeDraft({ name, blob }: { name: string; blob: Buffer }) {
        const draftDir = join(a.artifacts, 'forge', 'run-1', name, 'round-1');
        await mkdir(join(draftDir, 'public'), { recursive: true });
        await mkdir(join(draftDir, 'raw'), { recursive: true });
        await writeFile(join(draftDir, 'task.json'), JSON.stringify({ id: name }));
        await writeFile(join(draftDir, 'public', 'train.csv'), 'x,y\n1,2\n');
        await writeFile(join(draftDir, 'raw', 'blob.bin'), blob);
        return { draftDir, usage: { calls: 1 } };
      },
      async intake() {
        const dir = join(a.artifacts, 'datasets', 'iris-0123456789ab');
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'data.csv'), 'sepal,species\n5.1,setosa\n');
        await writeFile(join(dir, 'profile.json'), JSON.stringify({ dataFile: join(dir, 'data.csv') }));
        return { profileFile: join(dir, 'profile.json') };
      },
    });

  it('hands a folder one host wrote to an activity on the other, byte for byte, and back', async () => {
    const [a, b] = hosts();
    const blob = randomBytes(300_000);
    const { draftDir } = await writers(a).writeDraft({ name: 'iris', blob });

    // Host B's activity reads the draft A named; it sees the same bytes, and writes its report there.
    const verify = b.synced({
      async verify({ packageDir }: { packageDir: string }) {
        const read = await readFile(join(packageDir, 'raw', 'blob.bin'));
        await writeFile(join(packageDir, 'verification.json'), JSON.stringify({ status: 'verified' }));
        return { blob: sha(read), train: await readFile(join(packageDir, 'public', 'train.csv'), 'utf8') };
      },
    });
    expect(existsSync(on(b, a, draftDir))).toBe(false);
    expect(await verify.verify({ packageDir: on(b, a, draftDir) })).toEqual({ blob: sha(blob), train: 'x,y\n1,2\n' });
    expect(b.counts.get).toBe(3);
    // B put only what it wrote: the three files it pulled are unchanged.
    expect(b.counts.put).toBe(1);

    // Back on A, an activity given the draft reads B's report.
    const report = await a
      .synced({ read: async ({ dir }: { dir: string }) => readFile(join(dir, 'verification.json'), 'utf8') })
      .read({ dir: draftDir });
    expect(JSON.parse(report)).toEqual({ status: 'verified' });
  });

  it('pulls nothing again while the store and the local copy are unchanged', async () => {
    const [a, b] = hosts();
    const { draftDir } = await writers(a).writeDraft({ name: 'wine', blob: randomBytes(1000) });
    const reads = b.synced({ read: async ({ dir }: { dir: string }) => readFile(join(dir, 'task.json'), 'utf8') });
    await reads.read({ dir: on(b, a, draftDir) });
    expect(b.counts.get).toBe(3);
    await reads.read({ dir: on(b, a, draftDir) });
    expect(b.counts.get).toBe(3);
    expect(b.counts.put).toBe(0);
    // A changes one file: B fetches that one only.
    await a
      .synced({ edit: async ({ dir }: { dir: string }) => writeFile(join(dir, 'task.json'), '{"id":"wine-2"}') })
      .edit({ dir: draftDir });
    expect(await reads.read({ dir: on(b, a, draftDir) })).toBe('{"id":"wine-2"}');
    expect(b.counts.get).toBe(4);
  });

  it('pushes nothing of an activity that throws, so its retry starts from the store', async () => {
    const [a, b] = hosts();
    const { draftDir } = await writers(a).writeDraft({ name: 'penguins', blob: randomBytes(10) });
    const put = a.counts.put;
    const failing = a.synced({
      async refactor({ draftDir: dir }: { draftDir: string }) {
        await writeFile(join(dir, 'task.json'), '{"id":"half-written"}');
        await writeFile(join(dir, 'notes.md'), 'half');
        throw new Error('the model endpoint went away');
      },
    });
    await expect(failing.refactor({ draftDir })).rejects.toThrow(/endpoint went away/);
    expect(a.counts.put).toBe(put);
    expect((await a.store.list(`artifacts/forge/run-1/penguins/`)).sort()).toEqual([
      'artifacts/forge/run-1/penguins/round-1/public/train.csv',
      'artifacts/forge/run-1/penguins/round-1/raw/blob.bin',
      'artifacts/forge/run-1/penguins/round-1/task.json',
    ]);
    const read = async ({ dir }: { dir: string }) => readFile(join(dir, 'task.json'), 'utf8');
    expect(await b.synced({ read }).read({ dir: on(b, a, draftDir) })).toBe('{"id":"penguins"}');
    // A's retry, on A, starts from the store too: the failed attempt's files are gone, and stay out of it.
    const retry = a.synced({ read, notes: async ({ dir }: { dir: string }) => existsSync(join(dir, 'notes.md')) });
    expect(await retry.read({ dir: draftDir })).toBe('{"id":"penguins"}');
    expect(await retry.notes({ dir: draftDir })).toBe(false);
    expect(await a.store.list(`artifacts/forge/run-1/penguins/`)).toHaveLength(3);
  });

  it('brings a file with its folder, removes what one host deleted, and leaves host-local folders and the catalog alone', async () => {
    const [a, b] = hosts();
    const { profileFile } = await writers(a).intake();
    // B's activity is given only the profile; the data beside it comes too.
    const design = b.synced({
      async design({ profileFile: file, catalogDir }: { profileFile: string; catalogDir: string }) {
        const profile = JSON.parse(await readFile(file, 'utf8')) as { dataFile: string };
        const runDir = join(b.artifacts, 'runs', 'run-1');
        await mkdir(runDir, { recursive: true });
        await writeFile(join(runDir, 'stdout.txt'), 'scratch');
        return { rows: (await readFile(on(b, a, profile.dataFile), 'utf8')).split('\n').length, runDir, catalogDir };
      },
    });
    const catalogDir = join(b.catalog, 'iris');
    expect(await design.design({ profileFile: on(b, a, profileFile), catalogDir })).toMatchObject({ rows: 3 });
    expect(b.catalogPaths).toEqual([catalogDir]);
    expect(await b.store.list('artifacts/runs/')).toEqual([]);
    expect(await b.store.list('catalog/')).toEqual([]);

    // A deletes the data file; the store loses it, and so does B's copy at its next pull.
    const datasetDir = join(a.artifacts, 'datasets', 'iris-0123456789ab');
    await a.synced({ prune: async ({ dir }: { dir: string }) => rm(join(dir, 'data.csv')) }).prune({ dir: datasetDir });
    expect(await a.store.list('artifacts/datasets/')).toEqual(['artifacts/datasets/iris-0123456789ab/profile.json']);
    await b.synced({ look: async (_: { dir: string }) => undefined }).look({ dir: on(b, a, datasetDir) });
    expect(existsSync(join(on(b, a, datasetDir), 'data.csv'))).toBe(false);
    expect(existsSync(join(on(b, a, datasetDir), 'profile.json'))).toBe(true);
  });
  it('fails an activity whose store is unreachable as StoreUnavailable, naming the activity and the path, before it runs', async () => {
    const home = mkdtempSync(join(tmpdir(), 'anvil-sync-host-'));
    const artifacts = join(home, 'artifacts');
    const down = createS3Store({
      bucket: s3.bucket,
      region: 'us-east-1',
      prefix: 'down/',
      endpoint: 'http://127.0.0.1:9', // the discard port: nothing listens
      credentials: S3_TEST_CREDENTIALS,
    });
    let ran = false;
    const verify = storeSynced(
      { runAssertions: async (_: { packageDir: string }) => void (ran = true) },
      { mirror: createStoreMirror(down, { home, artifacts }), artifacts, catalog: join(home, 'catalog') },
    );
    const packageDir = join(artifacts, 'verify', 'iris');
    await expect(verify.runAssertions({ packageDir })).rejects.toMatchObject({
      type: 'StoreUnavailable',
      message: expect.stringMatching(new RegExp(`could not pull ${packageDir} from s3://.* before runAssertions`)),
    });
    expect(ran).toBe(false);
  });
});

/**
 * A pull longer than the activity's heartbeat timeout (15 s on the sandbox queues), inside a real
 * activity on a real worker: the transfer heartbeats, so the first attempt is not taken for a
 * lost worker; the sandbox run then reads the bytes the pull brought.
 */
describe('a slow pull inside a sandbox activity', () => {
  let s3: S3TestServer;
  let t: TestEnv;
  let connection: NativeConnection;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  beforeAll(async () => {
    s3 = await startS3TestServer('anvil-sync-beat');
    t = await createTestEnv();
    await t.startWorker('control');
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  }, 90_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await t?.close();
    s3?.stop();
  });

  it('heartbeats while it transfers, and the run sees the pulled bytes', async () => {
    const { home, artifacts, catalog } = t.config.paths;
    const store = createS3Store({
      bucket: s3.bucket,
      region: 'us-east-1',
      prefix: 'beat/',
      endpoint: s3.endpoint,
      credentials: S3_TEST_CREDENTIALS,
    });
    await store.put('artifacts/datasets/slow-1/data.csv', 'pulled,slowly\n');
    const slow: ArtifactStore = {
      ...store,
      get: async (key) => (await new Promise((r) => setTimeout(r, 18_000)), store.get(key)),
    };
    const sandbox = new DockerSandbox(t.docker, { image: t.config.sandbox.image, runsDir: join(artifacts, 'runs') });
    const activities = createSandboxActivities({
      sandbox,
      defaults: t.config.sandbox.limits,
      roots: [home, artifacts],
    });
    worker = await Worker.create({
      connection,
      namespace: t.config.temporal.namespace,
      taskQueue: taskQueueName(t.config.taskQueuePrefix, 'cpu'),
      activities: storeSynced(activities, {
        mirror: createStoreMirror(slow, { home, artifacts }),
        artifacts,
        catalog,
      }),
    });
    running = worker.run();

    const handle = await t.client.workflow.start<typeof sandboxRun>('sandboxRun', {
      taskQueue: t.controlQueue,
      workflowId: `slow-pull-${Date.now()}`,
      args: [{ code: 'print(open("/data/data.csv").read())', dataDir: join(artifacts, 'datasets', 'slow-1') }],
    });
    const result = await handle.result();
    expect(result.stdout).toContain('pulled,slowly');
    const history = await handle.fetchHistory();
    const attempts = history.events!.flatMap((e) => e.activityTaskStartedEventAttributes?.attempt ?? []);
    expect(attempts).toEqual([1]);
  }, 120_000);
});
