import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { readTaskInfo } from '../../activities/env/task-info';
import { gradeInSandbox } from '../../activities/grading';
import { createIntakeActivities } from '../../activities/intake';
import type { Sandbox } from '../../sandbox/sandbox';

/**
 * Hostile task packages, submissions and datasets: each case says what it tries and what must
 * hold. Packages and datasets are untrusted input, like agent code.
 */

const IRIS = join(__dirname, '..', 'fixtures', 'packages', 'iris-species');
const work = mkdtempSync(join(tmpdir(), 'anvil-hostile-'));

/** A prepared iris package (the real iris rows): public train and sample, private answers. */
function irisPackage(name: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'public'), { recursive: true });
  mkdirSync(join(dir, 'private'));
  cpSync(join(IRIS, 'task.json'), join(dir, 'task.json'));
  cpSync(join(IRIS, 'metric.py'), join(dir, 'metric.py'));
  const [header, ...rows] = readFileSync(join(IRIS, 'raw', 'iris.csv'), 'utf8')
    .trim()
    .split('\n');
  const withIds = rows.map((r, i) => `${i + 1},${r}`);
  writeFileSync(join(dir, 'public', 'train.csv'), `id,${header}\n${withIds.slice(0, 100).join('\n')}\n`);
  const answers = withIds.slice(100).map((r) => `${r.split(',')[0]},SECRET-${r.split(',').at(-1)}`);
  writeFileSync(join(dir, 'private', 'answers.csv'), `id,species\n${answers.join('\n')}\n`);
  writeFileSync(join(dir, 'public', 'sample_submission.csv'), 'id,species\n101,setosa\n');
  return dir;
}

/** A sandbox that must not be reached. */
const untouched: Sandbox & { runs: number } = {
  runs: 0,
  async run() {
    this.runs += 1;
    throw new Error('the sandbox must not run');
  },
  async reapOrphans() {
    return 0;
  },
};

describe('hostile packages, submissions and datasets', () => {
  it.each(['sample_submission.csv', 'train.csv'])(
    'a public/%s that is a symlink to the answers — tries: leak private/answers.csv through request_info; holds: the session refuses the task, no answer is read',
    async (file) => {
      const dir = irisPackage(`linked-${file}`);
      const target = join(dir, 'public', file);
      rmSync(target);
      symlinkSync(join('..', 'private', 'answers.csv'), target);
      await expect(readTaskInfo('iris-species', dir)).rejects.toThrow(/symbolic link/);
    },
  );

  it('a description.md that is a symlink to a host file — tries: read /etc/passwd into the opening observation; holds: refused', async () => {
    const dir = irisPackage('linked-description');
    symlinkSync('/etc/passwd', join(dir, 'description.md'));
    await expect(readTaskInfo('iris-species', dir)).rejects.toThrow(/symbolic link/);
  });

  it('a submission.csv that is a symlink to the answers — tries: have the answers graded as the submission; holds: invalid, the grader never runs', async () => {
    const dir = irisPackage('linked-submission');
    const workspace = join(work, 'workspace');
    mkdirSync(workspace, { recursive: true });
    symlinkSync(join(dir, 'private', 'answers.csv'), join(workspace, 'submission.csv'));
    const result = await gradeInSandbox(untouched, {
      packageDir: dir,
      submissionFile: join(workspace, 'submission.csv'),
      scratchDir: join(work, 'scratch'),
      runKey: 'hostile',
    });
    expect(result).toEqual({ valid: false, error: expect.stringContaining('symbolic link') });
    expect(untouched.runs).toBe(0);
  });

  it('a decompression bomb — tries: a Parquet file of a few KB that declares 2 million rows at intake; holds: BadDataset before decompressing, under a 1 MB limit', async () => {
    const rows = 2_000_000;
    const parquet = parquetWriteBuffer({
      codec: 'GZIP',
      compressors: { GZIP: (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes, { level: 9 })) },
      columnData: [
        { name: 'x', data: Float64Array.from({ length: rows }, (_, i) => i % 7), type: 'DOUBLE' },
        { name: 'label', data: Array.from({ length: rows }, (_, i) => (i % 2 ? 'a' : 'b')), type: 'STRING' },
      ],
    });
    expect(parquet.byteLength).toBeLessThan(1024 * 1024);
    const file = join(work, 'bomb.parquet');
    writeFileSync(file, Buffer.from(parquet));
    const intake = createIntakeActivities({ artifactsDir: join(work, 'artifacts'), maxDatasetMb: 1 });
    await expect(intake.intakeDataset({ path: file })).rejects.toThrow(/expands to .* MB once decompressed/);
  });
});
