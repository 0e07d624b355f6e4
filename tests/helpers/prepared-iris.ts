import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const IRIS = join(__dirname, '..', 'fixtures', 'packages', 'iris-species');

/**
 * The iris fixture (the real 150 flowers) as a published task, prepared here instead of by the
 * verifier: public train (100 rows) and sample submission, private answers (50 rows). Enough to
 * open sessions and answer request_info without any sandbox; its path.
 */
export function publishPreparedIris(catalogDir: string, id = 'iris-species'): string {
  const dir = join(catalogDir, id);
  mkdirSync(join(dir, 'public'), { recursive: true });
  mkdirSync(join(dir, 'private'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(IRIS, 'task.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'task.json'), JSON.stringify({ ...manifest, id }));
  for (const file of ['description.md', 'metric.py']) cpSync(join(IRIS, file), join(dir, file));
  const [header, ...rows] = readFileSync(join(IRIS, 'raw', 'iris.csv'), 'utf8')
    .trim()
    .split('\n');
  const withIds = rows.map((r, i) => `${i + 1},${r}`);
  writeFileSync(join(dir, 'public', 'train.csv'), `id,${header}\n${withIds.slice(0, 100).join('\n')}\n`);
  writeFileSync(join(dir, 'public', 'sample_submission.csv'), 'id,species\n101,setosa\n');
  writeFileSync(join(dir, 'private', 'answers.csv'), `id,species\n${withIds.slice(100).join('\n')}\n`);
  return dir;
}
