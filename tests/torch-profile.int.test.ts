import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntakeActivities } from '../activities/intake';
import { brainstorm } from '../agents/heuristic/brainstormer';
import { designImageTask } from '../agents/heuristic/image-designer';
import type { DatasetProfile } from '../domain/profile';
import { writeDigitImages } from '../examples/digit-images';
import { DockerSandbox } from '../sandbox/docker';
import { sandboxImageTag } from '../sandbox/image';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..');

/**
 * The python-torch profile: its image builds offline once (cached by recipe hash, so only the first
 * run pays), and a digits task naming the profile verifies with the small-CNN baseline, which
 * trains within the task's resources.
 */
describe('the python-torch sandbox profile', () => {
  let t: TestEnv;
  beforeAll(async () => {
    const started = Date.now();
    const built = await exec(join(ROOT, 'scripts', 'ensure-sandbox-image.sh'), ['python-torch'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    console.log(`${built.stdout.trim()} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  }, 3_600_000);
  afterAll(() => t?.close());

  it('a digits task on python-torch verifies, its baseline training a CNN within the task resources', async () => {
    const home = t.config.paths.home;
    const digits = await writeDigitImages(join(home, 'digits'), 'class-folders');
    const intake = createIntakeActivities({ artifactsDir: join(home, 'artifacts'), maxDatasetMb: 64 });
    const { profileFile } = await intake.intakeDataset({ path: digits, name: 'digits' });
    const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as DatasetProfile;
    const [proposal] = brainstorm({ profile, maxTasks: 1 });
    const design = designImageTask(profile, proposal!, 'python-torch');
    const dir = join(home, 'digits-torch');
    for (const [file, text] of Object.entries(design.files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    cpSync(join(profileFile, '..', 'data.csv'), join(dir, 'raw', 'data.csv'));
    cpSync(join(profileFile, '..', 'images'), join(dir, 'raw', 'images'), { recursive: true });

    const bin = join(ROOT, 'bin', 'anvil.js');
    const verified = await exec(process.execPath, [bin, 'verify', dir, '--json'], { env: t.env }).catch((e) => e);
    const report = JSON.parse(verified.stdout.trim().split('\n').at(-1)!) as {
      status: string;
      checks: { name: string; passed: boolean; detail: string }[];
    };
    expect(report.status, JSON.stringify(report.checks.filter((c) => !c.passed))).toBe('verified');

    // The same baseline in the profile's image, on data its prepare.py writes: the CNN trains.
    const manifest = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8'));
    expect(manifest.sandbox).toEqual({ profile: 'python-torch' });
    const sandbox = new DockerSandbox(t.docker, { runsDir: join(home, 'runs') });
    const { cpus, memoryMb, timeLimitS } = manifest.resources;
    const limits = { cpus, memoryMb, timeoutS: timeLimitS, pids: 256, outputBytes: 256 * 1024, tmpMb: 512 };
    await exec('chmod', ['-R', 'a+rX', dir]);
    const call =
      '\nfrom pathlib import Path\nprepare(Path("/data/raw"), Path("/workspace/public"), Path("/workspace/private"))\n';
    const prepared = await sandbox.run(
      { code: design.files['prepare.py']! + call, dataDir: dir, limits },
      { runKey: `torch-prepare-${Date.now()}` },
    );
    expect(prepared.exitCode, prepared.stderr).toBe(0);
    await exec('chmod', ['-R', 'a+rX', prepared.workspaceDir]);
    const run = await sandbox.run(
      { code: design.files['solutions/baseline.py']!, dataDir: join(prepared.workspaceDir, 'public'), limits },
      { runKey: `torch-cnn-${Date.now()}`, profile: 'python-torch' },
    );
    console.log(`CNN baseline on ${sandboxImageTag(undefined, 'python-torch')}: ${(run.wallMs / 1000).toFixed(1)} s`);
    // within the task's cpus, memory and time limit, or the sandbox would have stopped it
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/epoch 8: loss \d/);
  }, 1_800_000);
});
