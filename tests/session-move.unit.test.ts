import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { snapshotSession, takeSession } from '../activities/env/session-store';
import { createFsStore } from '../package/store/fs-store';

const dir = (name: string) => {
  const d = join(mkdtempSync(join(tmpdir(), `anvil-${name}-`)), 'workspace');
  mkdirSync(d);
  return d;
};

describe('a Dojo session moved between hosts through the store', () => {
  it('resumes from the last snapshot on the new host, and the lost host can write nothing more', async () => {
    const store = createFsStore(mkdtempSync(join(tmpdir(), 'anvil-shared-')));
    const onA = { envId: 'env-7', epoch: 1, workspaceDir: dir('host-a') };
    expect(await takeSession(store, onA)).toBe('fresh');
    writeFileSync(join(onA.workspaceDir, 'features.csv'), 'a,b\n1,2\n');
    await snapshotSession(store, onA);
    expect(await takeSession(store, onA)).toBe('owner');

    // Host A is lost; the workflow places the session again (epoch 2) on host B.
    const onB = { envId: 'env-7', epoch: 2, workspaceDir: dir('host-b') };
    expect(await takeSession(store, onB)).toBe('restored');
    expect(readFileSync(join(onB.workspaceDir, 'features.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(statSync(join(onB.workspaceDir, 'features.csv')).mode & 0o777).toBe(0o666);

    // A comes back and tries to carry on: refused, not retried.
    writeFileSync(join(onA.workspaceDir, 'features.csv'), 'stale');
    for (const attempt of [snapshotSession(store, onA), takeSession(store, onA)]) {
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'FencedOut', nonRetryable: true });
    }
    // What B restores after another move is still B's line of snapshots, not A's stale one.
    const onC = { envId: 'env-7', epoch: 3, workspaceDir: dir('host-c') };
    expect(await takeSession(store, onC)).toBe('restored');
    expect(readFileSync(join(onC.workspaceDir, 'features.csv'), 'utf8')).toBe('a,b\n1,2\n');
  });
});
