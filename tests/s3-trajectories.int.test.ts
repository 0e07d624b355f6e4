import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvControlActivities } from '../activities/env/control';
import { createFsCatalog } from '../package/catalog';
import { createEnvSandboxActivities, type EnvSandboxDeps } from '../activities/env/sandbox';
import { exportRollout } from '../cli/rollout-export';
import { loadConfig } from '../config';
import type { EpisodeRow } from '../domain/rollout-export';
import { groupStats } from '../domain/rollouts';
import { createS3Store } from '../package/store/s3-store';
import { createTrajectories, openTrajectories } from '../package/trajectories';
import { S3_TEST_CREDENTIALS as credentials, startS3TestServer } from './helpers/s3-test-server';
import { scoredSteps, T0, TERMS } from './helpers/trajectory-entries';

const exec = promisify(execFile);
const BUCKET = 'anvil-trajectories-test';

/**
 * Trajectories with `store.backend: s3`: the hosts share no folder, only a real S3-compatible
 * server (moto's). Host A records a session's steps; host B, with its own empty home, reads them.
 */
describe('trajectories on an S3-compatible object store', () => {
  let server: Awaited<ReturnType<typeof startS3TestServer>> | undefined;
  const prefix = `run-${randomUUID().slice(0, 8)}/`;
  /** a host's environment: its own home, the cluster's store */
  const hostEnv = (home: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    ANVIL_HOME: home,
    ANVIL_STORE: 's3',
    ANVIL_S3_ENDPOINT: server!.endpoint,
    ANVIL_S3_BUCKET: BUCKET,
    ANVIL_S3_PREFIX: prefix,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  const host = (home = mkdtempSync(join(tmpdir(), 'anvil-host-'))) => {
    const store = createS3Store({
      bucket: BUCKET,
      region: 'us-east-1',
      prefix,
      endpoint: server!.endpoint,
      credentials,
    });
    return { home, trajectories: createTrajectories({ dir: join(home, 'artifacts', 'trajectories'), store }) };
  };
  const anvil = async (args: string[], env: NodeJS.ProcessEnv) =>
    (await exec(process.execPath, [join(__dirname, '..', 'bin', 'anvil.js'), ...args], { env, cwd: env.ANVIL_HOME }))
      .stdout;

  beforeAll(async () => {
    server = await startS3TestServer(BUCKET);
  }, 90_000);
  afterAll(() => server?.stop());

  it('records each step once on one host, and another host reads them all and answers a retried step', async () => {
    const a = host();
    const control = createEnvControlActivities({
      trajectories: a.trajectories,
      catalogs: () => createFsCatalog(a.home),
      roots: [a.home],
    });
    const ref = await a.trajectories.open('env-a1');
    expect(ref).toBe('store:trajectories/env-a1/');
    const { entries, before } = scoredSteps('env-a1', [0.8, 0.9, 0.85]);
    for (const entry of entries) await control.appendTrajectory({ file: ref, entry });
    // A retried append of step 2 (its first attempt's reply was lost) changes nothing.
    await control.appendTrajectory({ file: ref, entry: { ...entries[1]!, reward: 0 } });
    expect(existsSync(join(a.home, 'artifacts'))).toBe(false);

    const b = host();
    expect(await b.trajectories.read(ref)).toEqual(entries);
    // A retried code step placed on host B answers from A's record and runs nothing (B has no sandbox).
    const { runAndRecord } = createEnvSandboxActivities({ trajectories: b.trajectories } as EnvSandboxDeps);
    const retried = await runAndRecord({
      envId: 'env-a1',
      taskId: 'iris',
      packageDir: '/catalog/iris',
      code: 'print(1)',
      limits: { cpus: 1, memoryMb: 512, timeoutS: 60 },
      action: 'execute_code',
      params: entries[1]!.params,
      session: { ...before[1]!, history: [] },
      terms: TERMS,
      moved: true,
      trajectory: ref,
      startedAtMs: T0 + 2000,
    });
    expect([retried.observation, retried.reward]).toEqual([entries[1]!.observation, entries[1]!.reward]);
    await b.trajectories.append(ref, { ...entries[2]!, reward: 0 });
    expect(await a.trajectories.read(ref)).toEqual(entries);
  });

  it('exports the same SFT record and rollout rows from an S3 trajectory as from a file holding the same steps', async () => {
    const { entries } = scoredSteps('env-b1', [0.75, 0.9]);
    const fsHome = mkdtempSync(join(tmpdir(), 'anvil-fs-'));
    const files = await openTrajectories(loadConfig({ ANVIL_HOME: fsHome }, fsHome));
    const fileRef = await files.open('env-b1');
    const b = host();
    const storeRef = await b.trajectories.open('env-b1');
    for (const entry of entries) {
      await files.append(fileRef, entry);
      await host().trajectories.append(storeRef, entry);
    }

    // `anvil env export` by envId, on a host configured for each store (a separate process each).
    const fromFile = await anvil(['env', 'export', 'env-b1', '--format', 'sft'], {
      PATH: process.env.PATH,
      ANVIL_HOME: fsHome,
    });
    const fromStore = await anvil(['env', 'export', 'env-b1', '--format', 'sft'], hostEnv(b.home));
    expect(JSON.parse(fromFile).messages.length).toBeGreaterThan(2);
    expect(fromStore).toBe(fromFile);

    // The rollout export a trainer reads: the same rows (but the ref itself) and the same SFT records.
    const exported = async (trajectory: string, trajectories = files) => {
      const episodes = [
        { task: 'iris', sample: 0, status: 'completed' as const, reward: 0.6, steps: 2, envId: 'env-b1', trajectory },
      ];
      const out = mkdtempSync(join(tmpdir(), 'anvil-export-'));
      await exportRollout({ workflowId: 'rollout-b', episodes, groups: groupStats(episodes) }, out, {
        trajectories,
        sft: {},
      });
      const rows = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => ({ ...(JSON.parse(l) as EpisodeRow), trajectory: 'ref' }));
      return { rows, sft: readFileSync(join(out, 'sft.jsonl'), 'utf8') };
    };
    const fromFiles = await exported(fileRef);
    expect(fromFiles.rows[0]!.medal !== undefined && fromFiles.sft.length).toBeGreaterThan(0);
    expect(await exported(storeRef, b.trajectories)).toEqual(fromFiles);
  });
});
