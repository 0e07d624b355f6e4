import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTaskInfo } from '../activities/env/task-info';
import { extractDna } from '../domain/synth';

const IRIS = join(__dirname, 'fixtures', 'packages', 'iris-species');

describe('readTaskInfo on a train.csv over the 64 MB profiling size', () => {
  it('profiles its head, counts all its rows, and gives Synth class shares from the profiled rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-task-info-'));
    cpSync(join(IRIS, 'task.json'), join(dir, 'task.json'));
    mkdirSync(join(dir, 'public'));
    mkdirSync(join(dir, 'private'));
    // The 150 iris flowers, with ids, repeated until the file passes 64 MB.
    const [header, ...rows] = readFileSync(join(IRIS, 'raw', 'iris.csv'), 'utf8')
      .trim()
      .split('\n');
    const copies = Math.ceil((66 * 1024 * 1024) / rows.join('\n').length);
    const lines = Array.from({ length: copies * rows.length }, (_, i) => `${i + 1},${rows[i % rows.length]}`);
    writeFileSync(join(dir, 'public', 'train.csv'), `id,${header}\n${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'public', 'sample_submission.csv'), 'id,species\n1,setosa\n');
    writeFileSync(join(dir, 'private', 'answers.csv'), 'id,species\n1,setosa\n');

    const info = await readTaskInfo('iris-species', dir);
    expect(info.trainRows).toBe(lines.length);
    expect(info.columns.map((c) => c.name)).toEqual(['id', ...header!.split(',')]);
    expect(
      info.columns
        .find((c) => c.name === 'species')
        ?.top?.map((t) => t.value)
        .sort(),
    ).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(info.profiledRows).toBeGreaterThan(0);
    expect(info.profiledRows).toBeLessThan(lines.length);
    // Counts come from the head: shares must be taken over the head's rows, not the whole file's.
    const dna = extractDna({ ...info, modality: 'tabular' });
    for (const c of dna.label!.classes) expect(c.share).toBeCloseTo(1 / 3, 2);
  }, 120_000);
});
