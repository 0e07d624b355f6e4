import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFsStore } from '../package/store/fs-store';
import { createTrajectories } from '../package/trajectories';
import { scoredSteps } from './helpers/trajectory-entries';

const scratch = () => mkdtempSync(join(tmpdir(), 'anvil-trajs-'));

// The store's behaviour is the same on S3 (tests/s3-trajectories.int.test.ts); a folder store keeps this cheap.
describe('trajectories in the artifact store', () => {
  it('keep one object per step, appended once and read in step order', async () => {
    const dir = join(scratch(), 'trajectories');
    const store = createFsStore(scratch());
    const trajectories = createTrajectories({ dir, store });
    const ref = await trajectories.open('env/1 a');
    expect(ref).toBe('store:trajectories/env_1_a/');
    const { entries } = scoredSteps('env/1 a', [0.8, 0.9, 0.85]);
    for (const i of [0, 2, 1]) await trajectories.append(ref, entries[i]!);
    await trajectories.append(ref, { ...entries[1]!, reward: -1 }); // a retried append of step 2
    expect(await store.list('trajectories/')).toHaveLength(3);
    expect(await store.get('trajectories/env_1_a/000002.json')).toBeDefined();
    expect(await trajectories.read(ref)).toEqual(entries);
    expect(await trajectories.recorded(ref, 2)).toEqual(entries[1]);
    expect(await trajectories.recorded(ref, 4)).toBeUndefined();
    expect(await trajectories.read(trajectories.refOf('env-none'))).toBeUndefined();
    expect(existsSync(dir)).toBe(false); // nothing on the host's own disk
  });

  it('keep a file per session without a store, and read file refs whatever the store', async () => {
    const dir = scratch();
    const files = createTrajectories({ dir });
    const ref = await files.open('env-2');
    expect(ref).toBe(join(dir, 'env-2.jsonl'));
    const { entries } = scoredSteps('env-2', [0.7, 0.75]);
    for (const e of [...entries, entries[0]!]) await files.append(ref, e);
    const withStore = createTrajectories({ dir: scratch(), store: createFsStore(scratch()) });
    expect(await withStore.read(ref)).toEqual(entries);
    expect(await withStore.recorded(ref, 2)).toEqual(entries[1]);
  });

  it('refuse a store ref they cannot read, saying why', async () => {
    const files = createTrajectories({ dir: scratch() });
    await expect(files.read('store:trajectories/env-3/')).rejects.toThrow(/store\.backend is fs/);
    const withStore = createTrajectories({ dir: scratch(), store: createFsStore(scratch()) });
    await expect(withStore.read('store:catalog/iris/')).rejects.toThrow(/not a trajectory ref/);
    expect(withStore.refOf('..')).toBe('store:trajectories/_../');
  });
});
