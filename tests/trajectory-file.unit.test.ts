import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendStepOnce, recordedStep } from '../package/trajectory-file';
import type { TrajectoryEntry } from '../domain/env';

const entry = (step: number, note = '') => ({ step, note }) as unknown as TrajectoryEntry;
const steps = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap<number | string>((line) => {
      try {
        return [(JSON.parse(line) as TrajectoryEntry).step];
      } catch {
        return ['cut'];
      }
    });

describe('appending to a trajectory', () => {
  it('records each step once, also when retried, with lines longer than a read chunk', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'anvil-traj-')), 't.jsonl');
    await appendStepOnce(file, entry(0));
    await appendStepOnce(file, entry(1, 'x'.repeat(200_000)));
    await appendStepOnce(file, entry(1));
    await appendStepOnce(file, entry(0));
    await appendStepOnce(file, entry(2));
    expect(steps(file)).toEqual([0, 1, 2]);
  });

  it('completes a line a crash cut short and records the step again', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'anvil-traj-')), 't.jsonl');
    await appendStepOnce(file, entry(0));
    appendFileSync(file, '{"step": 1, "obs');
    await appendStepOnce(file, entry(1));
    await appendStepOnce(file, entry(1));
    expect(steps(file)).toEqual([0, 'cut', 1]);
  });

  it("finds a step's record from the file's end, and none for a step not recorded", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'anvil-traj-')), 't.jsonl');
    expect(await recordedStep(file, 1)).toBeUndefined();
    for (const n of [1, 2, 3]) await appendStepOnce(file, entry(n, 'x'.repeat(40_000)));
    appendFileSync(file, '{"step": 4, "obs');
    expect(await recordedStep(file, 2)).toMatchObject({ step: 2 });
    expect(await recordedStep(file, 3)).toMatchObject({ step: 3 });
    expect(await recordedStep(file, 4)).toBeUndefined();
  });
});
