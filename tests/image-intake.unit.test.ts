import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIntakeActivities } from '../activities/intake';
import { readImageFolder } from '../activities/intake/images';
import type { DatasetProfile } from '../domain/profile';
import { brainstorm } from '../agents/heuristic/brainstormer';
import { design } from '../agents/heuristic/designer';

/** Image files are only copied and hashed by intake, never decoded: distinct bytes stand in for pixels. */
function imageFolder(layout: 'class-folders' | 'labels-table'): string {
  const dir = mkdtempSync(join(tmpdir(), 'anvil-images-'));
  const rows = ['file,label'];
  for (let i = 0; i < 30; i++) {
    const label = ['cat', 'dog', 'fox'][i % 3]!;
    const folder = layout === 'class-folders' ? label : 'pictures';
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, `${label}-${i}.png`), `not really a png ${i}`);
    rows.push(`${label}-${i}.png,${label}`);
  }
  if (layout === 'labels-table') writeFileSync(join(dir, 'labels.csv'), rows.join('\n') + '\n');
  return dir;
}

const intake = (path: string) =>
  createIntakeActivities({ artifactsDir: mkdtempSync(join(tmpdir(), 'anvil-art-')), maxDatasetMb: 10 }).intakeDataset({
    path,
    name: 'pets',
  });

describe('image intake', () => {
  it.each(['class-folders', 'labels-table'] as const)(
    'a folder in the %s layout becomes an image profile and content-addressed images',
    async (layout) => {
      const result = await intake(imageFolder(layout));
      const profile = JSON.parse(readFileSync(result.profileFile, 'utf8')) as DatasetProfile;
      expect(profile.images).toEqual({ column: 'image', count: 30, layout });
      expect(profile.candidateTargets.map((c) => [c.column, c.taskType])).toEqual([
        ['label', 'multiclass-classification'],
      ]);
      const data = readFileSync(profile.dataFile, 'utf8').trim().split('\n');
      expect(data[0]).toBe('image,label');
      expect(data).toHaveLength(31);
      const stored = readdirSync(join(profile.dataFile, '..', 'images'));
      expect(stored).toHaveLength(30);
      // the source names spell the label; the stored ones are hashes of the bytes
      for (const name of stored) expect(name).toMatch(/^[0-9a-f]{16}\.png$/);
    },
  );

  it('a folder of tables is no image folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-tables-'));
    writeFileSync(join(dir, 'a.csv'), 'x,y\n1,2\n');
    expect(await readImageFolder(dir)).toBeUndefined();
  });

  it('images with neither labels table nor class folders are refused, saying how to label them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-unlabelled-'));
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `${i}.png`), `x${i}`);
    await expect(readImageFolder(dir)).rejects.toThrow(/labels\.csv.*folder named after its class/);
  });

  it('the Brainstormer proposes an image task and the Designer writes the image templates', async () => {
    const result = await intake(imageFolder('class-folders'));
    const profile = JSON.parse(readFileSync(result.profileFile, 'utf8')) as DatasetProfile;
    const [proposal] = brainstorm({ profile, maxTasks: 3 });
    expect(proposal).toMatchObject({ modality: 'image', target: 'label', metric: { name: 'accuracy' } });
    const { files } = design({ profile, proposal: proposal!, round: 0 });
    expect(JSON.parse(files['task.json']!)).toMatchObject({ modality: 'image', idColumn: 'id' });
    expect(files['prepare.py']).toContain('clean_copy');
    expect(files['solutions/baseline.py']).toContain('LogisticRegression');
    expect(files['description.md']).toMatch(/## Submission format/);
  });
});
