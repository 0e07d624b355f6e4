import { describe, expect, it } from 'vitest';
import {
  applyProgress,
  parseProgressLine,
  PROGRESS_PREFIX,
  trainingSpecSchema,
  workspaceRelative,
} from '../domain/training';
import { LineSplitter } from '../sandbox/line-splitter';

describe('the training progress protocol', () => {
  it('reads a marked JSON line and ignores ordinary output', () => {
    expect(parseProgressLine('epoch 1 loss 0.3')).toBeUndefined();
    expect(
      parseProgressLine(
        `${PROGRESS_PREFIX}{"step": 40, "epoch": 2, "metric": {"name": "loss", "value": 0.31}, "checkpoint": "checkpoints/step-40.npz"}`,
      ),
    ).toEqual({
      ok: true,
      update: { step: 40, epoch: 2, metric: { name: 'loss', value: 0.31 }, checkpoint: 'checkpoints/step-40.npz' },
    });
    // unknown fields are dropped (room for later versions), absolute /workspace paths normalised
    expect(parseProgressLine(`${PROGRESS_PREFIX}{"checkpoint": "/workspace/./ck//a.pt", "future": 1}`)).toEqual({
      ok: true,
      update: { checkpoint: 'ck/a.pt' },
    });
  });

  it('rejects malformed lines with a reason instead of throwing', () => {
    const bad = [
      `${PROGRESS_PREFIX}{"step": 1`, // not JSON
      `${PROGRESS_PREFIX}{"metric": {"name": "loss", "value": NaN}}`, // NaN is not JSON
      `${PROGRESS_PREFIX}[1, 2]`,
      `${PROGRESS_PREFIX}{"step": -1}`,
      `${PROGRESS_PREFIX}{"step": 1.5}`,
      `${PROGRESS_PREFIX}{"metric": {"value": 1}}`,
      `${PROGRESS_PREFIX}{"checkpoint": "../../etc/passwd"}`,
      `${PROGRESS_PREFIX}{"checkpoint": "/etc/passwd"}`,
      `${PROGRESS_PREFIX}{"checkpoint": "/workspace"}`,
    ];
    for (const line of bad) {
      const parsed = parseProgressLine(line);
      expect(parsed?.ok, line).toBe(false);
      expect(parsed && !parsed.ok && parsed.error.length, line).toBeGreaterThan(5);
    }
    expect(workspaceRelative('ck/../../x')).toBeUndefined();
    expect(workspaceRelative('/workspacefoo/x')).toBeUndefined();
  });

  it('folds updates: absent fields keep their value, a checkpoint remembers its step', () => {
    let p = applyProgress({}, { step: 10, metric: { name: 'loss', value: 1 } });
    p = applyProgress(p, { step: 20, checkpoint: 'checkpoints/20.npz' });
    p = applyProgress(p, { step: 21 });
    expect(p).toEqual({
      step: 21,
      metric: { name: 'loss', value: 1 },
      checkpoint: 'checkpoints/20.npz',
      checkpointStep: 20,
    });
  });

  it('validates training specs: no ANVIL_* env overrides, a non-empty script', () => {
    expect(trainingSpecSchema.safeParse({ code: 'print(1)', env: { SEED: '1' }, gpu: true }).success).toBe(true);
    expect(trainingSpecSchema.safeParse({ code: 'print(1)', env: { ANVIL_RESUME_FROM: '/etc' } }).success).toBe(false);
    expect(trainingSpecSchema.safeParse({ code: '' }).success).toBe(false);
  });
});

describe('LineSplitter (the sandbox stdout line feed)', () => {
  const split = (chunks: (string | Buffer)[], maxChars?: number) => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), maxChars);
    for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
    s.end();
    return lines;
  };

  it('joins lines split across chunks, strips \\r, and gives the last partial line at the end', () => {
    expect(split(['a', 'b\nc', 'd\r\n', '\n', 'tail'])).toEqual(['ab', 'cd', '', 'tail']);
  });

  it('keeps a multi-byte character cut between chunks', () => {
    const bytes = Buffer.from('é→\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)])).toEqual(['é→']);
  });

  it('cuts an over-long line and drops the rest of it', () => {
    expect(split(['x'.repeat(10), 'y'.repeat(10), 'z\nnext\n'], 8)).toEqual(['xxxxxxxx', 'next']);
  });

  it('ignores errors thrown by the consumer', () => {
    const seen: string[] = [];
    const s = new LineSplitter((l) => {
      seen.push(l);
      throw new Error('consumer bug');
    });
    s.push(Buffer.from('a\nb\n'));
    expect(seen).toEqual(['a', 'b']);
  });
});
