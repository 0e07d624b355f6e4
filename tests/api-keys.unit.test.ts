import { mkdirSync, mkdtempSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { confinedPath } from '../activities/confine';
import { createTemporalEnvService } from '../client/temporal-envs';
import { createKey, fileKeyRing, readKeysFile, revokeKey } from '../config/keys-file';
import { TEST_LIMITS } from './helpers/keys';

const dir = () => mkdtempSync(join(tmpdir(), 'anvil-keys-'));

describe('the keys file', () => {
  it('stores only a hash, mode 0600; the token authenticates until it is revoked', async () => {
    const file = join(dir(), 'keys.json');
    const { key, token } = createKey(file, { name: 'trainer', scope: 'user', limits: { sessions: 3 } });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = readKeysFile(file).keys;
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token.split('_')[2]);
    const ring = fileKeyRing(file, TEST_LIMITS);
    expect(ring.authenticate(token)).toEqual({
      keyId: key.id,
      name: 'trainer',
      scope: 'user',
      limits: { ...TEST_LIMITS, sessions: 3 },
    });
    expect(ring.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(revokeKey(file, key.id)).toBe(true);
    expect(revokeKey(file, 'zzzzzzzz')).toBe(false);
    await new Promise((r) => setTimeout(r, 1100)); // the ring re-reads the file at most once a second
    expect(ring.authenticate(token)).toBeUndefined();
  });
});

describe('budget maxima', () => {
  const envs = createTemporalEnvService({
    client: {} as Client, // never reached: the budget is refused first
    controlQueue: 'q',
    catalogDir: '/nowhere',
    defaults: { budget: { steps: 10, wallTimeS: 60, idleTimeoutS: 60 }, rewardMode: 'position' },
    maxBudget: { memoryMb: 4096, idleTimeoutS: 3600 },
  });

  it('a budget above a configured maximum is a bad-request naming the field and the maximum', async () => {
    await expect(
      envs.create({ taskId: 'iris', budget: { memoryMb: 1_000_000, idleTimeoutS: 1e9 } }),
    ).rejects.toMatchObject({
      kind: 'bad-request',
      message: expect.stringMatching(/budget\.memoryMb = 1000000 is above the maximum 4096.*budget\.idleTimeoutS/),
    });
  });
});

describe('paths in workflow inputs', () => {
  it('must lie under a root once symlinks are resolved, else a non-retryable PathOutsideRoots', () => {
    const root = dir();
    mkdirSync(join(root, 'catalog'));
    const outside = dir();
    symlinkSync(outside, join(root, 'catalog', 'escape'));
    expect(confinedPath(join(root, 'catalog'), [root], 'catalogDir')).toBe(join(root, 'catalog'));
    expect(confinedPath(join(root, 'not-yet', 'there'), [root], 'workspaceDir')).toBe(join(root, 'not-yet', 'there'));
    for (const path of [outside, join(root, 'catalog', 'escape'), join(root, '..'), '/']) {
      expect(() => confinedPath(path, [root], 'dataDir'), path).toThrow(
        expect.objectContaining({ type: 'PathOutsideRoots', nonRetryable: true }),
      );
    }
  });
});
