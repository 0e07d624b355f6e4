import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendStepOnce } from '../activities/env/trajectory-file';
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
});
