import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutResult } from '../domain/rollouts';
import { writeDigitImages } from '../examples/digit-images';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);

/**
 * `anvil forge` on a folder of images (scikit-learn's digits written out as PNG, with labels.csv):
 * a verified image task whose public data is train/ and test/ PNG folders, train.csv and a sample
 * submission by image id; it plays through `anvil env run` and a 4-sample rollout.
 */
describe('anvil forge on an image folder', () => {
  let t: TestEnv;
  const anvil = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const bin = join(__dirname, '..', 'bin', 'anvil.js');
    try {
      const { stdout, stderr } = await exec(process.execPath, [bin, ...args], {
        env: { ...t.env, ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  it('forges a verified digit task from PNG files and a labels table, plays it, and rolls it out 4 times', async () => {
    const digits = await writeDigitImages(join(t.config.paths.home, 'digits'), 'labels-table', 600);
    // with the reference ladder (int tests skip it elsewhere): its rungs read the images as pixels
    const forged = await anvil(['forge', digits, '--name', 'digits', '--max-tasks', '1', '--json'], {
      ANVIL_LADDER: '1',
    });
    expect(forged.code, forged.stderr + forged.stdout).toBe(0);
    const [task] = lastJson(forged.stdout).tasks as { id: string; status: string; path: string; scores: never }[];
    expect(task!.status, JSON.stringify(task)).toBe('verified');

    const manifest = JSON.parse(readFileSync(join(task!.path, 'task.json'), 'utf8'));
    expect(manifest).toMatchObject({ modality: 'image', taskType: 'multiclass-classification', target: 'label' });
    const publicDir = join(task!.path, 'public');
    expect(readdirSync(publicDir).sort()).toEqual(['sample_submission.csv', 'test', 'test.csv', 'train', 'train.csv']);
    const train = readFileSync(join(publicDir, 'train.csv'), 'utf8').trim().split('\n');
    const test = readFileSync(join(publicDir, 'test.csv'), 'utf8').trim().split('\n');
    expect(train[0]).toBe('id,image,label');
    expect(test[0]).toBe('id,image');
    expect(readdirSync(join(publicDir, 'train'))).toHaveLength(train.length - 1);
    expect(readdirSync(join(publicDir, 'test'))).toHaveLength(test.length - 1);
    // every public image is named by its random id, never by its source name or label
    for (const name of readdirSync(join(publicDir, 'test'))) expect(name).toMatch(/^\d{6}\.png$/);
    expect(existsSync(join(publicDir, 'answers.csv'))).toBe(false);
    const report = JSON.parse(readFileSync(join(task!.path, 'verification.json'), 'utf8'));
    const imageChecks = report.checks.filter((c: { name: string }) => c.name.startsWith('images.'));
    expect(imageChecks.map((c: { passed: boolean }) => c.passed)).toEqual([true, true, true]);
    // a board of strengths, from the prior (about 0.1) to pixel models near the baseline, not 27 priors
    const rungs = (report.ladder as { score?: number; error?: string }[]).filter(
      (r) => r.score !== undefined && !r.error,
    );
    const scores = rungs.map((r) => r.score!);
    expect(rungs.length).toBeGreaterThanOrEqual(24);
    expect(new Set(scores).size).toBeGreaterThanOrEqual(10);
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(0.5);

    const played = await anvil(['env', 'run', task!.id, '--policy', 'heuristic', '--json']);
    expect(played.code, played.stderr + played.stdout).toBe(0);
    const episode = lastJson(played.stdout) as { final: { score: { raw: number } } };
    // the pixel baseline reads digits far better than the majority class (about 0.1)
    expect(episode.final.score.raw).toBeGreaterThan(0.8);

    const rolled = await anvil(['rollout', '--task', task!.id, '--policy', 'heuristic', '--samples', '4', '--json']);
    expect(rolled.code, rolled.stderr + rolled.stdout).toBe(0);
    const { episodes } = lastJson(rolled.stdout) as unknown as RolloutResult;
    expect(episodes.map((e) => e.status)).toEqual(Array(4).fill('completed'));
  }, 900_000);
});
