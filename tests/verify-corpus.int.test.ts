import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers/env';
import {
  listBrokenFixtures,
  listGoodPackages,
  materializePackage,
  unexpectedFailures,
} from './helpers/fixture-packages';

interface VerifyOutput {
  status: 'verified' | 'rejected';
  checks: { name: string; passed: boolean; detail: string }[];
}

// Every package of the corpus through the real `anvil verify` command, a client of the test's
// Temporal server whose workers run here.
describe.concurrent('anvil verify on the package corpus', () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  async function verify(nameOrDefect: string): Promise<{ code: number; out: VerifyOutput; stderr: string }> {
    const dir = await materializePackage(
      nameOrDefect,
      join(mkdtempSync(join(tmpdir(), 'anvil-corpus-')), nameOrDefect),
    );
    const cli = join(__dirname, '..', 'bin', 'anvil.js');
    const done = await promisify(execFile)(process.execPath, [cli, 'verify', dir, '--json'], { env: t.env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    return { code: done.code, out: JSON.parse(done.stdout) as VerifyOutput, stderr: done.stderr };
  }

  it.each(listGoodPackages())(
    'verifies the correct package %s: every check passes, exit 0',
    async (name) => {
      const { code, out } = await verify(name);
      expect(out.checks.filter((c) => !c.passed)).toEqual([]);
      expect(out.status).toBe('verified');
      expect(code).toBe(0);
    },
    600_000,
  ); // an image package prepares and learns from hundreds of files: minutes on a loaded host

  it.each(listBrokenFixtures())(
    'rejects $defect, naming $failingCheck (twin: $base), and fails no other check without good reason, exit 1',
    async (fixture) => {
      const { defect, failingCheck } = fixture;
      const { code, out } = await verify(defect);
      expect(out.status).toBe('rejected');
      expect(code).toBe(1);
      const check = out.checks.find((c) => c.name === failingCheck);
      expect(check, `checks: ${out.checks.map((c) => c.name).join(', ')}`).toBeDefined();
      expect(check!.passed, check!.detail).toBe(false);
      expect(check!.detail.length).toBeGreaterThan(10);
      // Any other failing check is a consequence the fixture's defect.json names with its reason.
      expect(unexpectedFailures(fixture, out.checks)).toEqual([]);
    },
    600_000,
  );

  it('rejects a package linking to host files without reading them (files.no_links), exit 1', async () => {
    const secret = `anvil-host-secret-${process.pid}-${Date.now()}`;
    const hostFile = join(mkdtempSync(join(tmpdir(), 'anvil-host-')), 'secret.txt');
    writeFileSync(hostFile, `${secret}\n`);
    const dir = await materializePackage('iris-species', join(mkdtempSync(join(tmpdir(), 'anvil-corpus-')), 'hostile'));
    mkdirSync(join(dir, 'public'));
    symlinkSync(hostFile, join(dir, 'public', 'train.csv'));
    rmSync(join(dir, 'solutions', 'baseline.py'));
    symlinkSync(hostFile, join(dir, 'solutions', 'baseline.py'));
    const cli = join(__dirname, '..', 'bin', 'anvil.js');
    const done = await promisify(execFile)(process.execPath, [cli, 'verify', dir, '--json'], { env: t.env }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(done).toMatchObject({ code: 1 });
    const out = JSON.parse(done.stdout) as VerifyOutput & { packageDir?: string };
    expect(out.checks.find((c) => c.name === 'files.no_links')).toMatchObject({
      passed: false,
      detail: expect.stringContaining('solutions/baseline.py -> '),
    });
    expect(out.checks.find((c) => c.name === 'prepare.runs')?.detail).toBe('not run: files.no_links failed');
    expect(done.stdout + done.stderr).not.toContain(secret);
    // Nothing of the host file reached the artifact store (the staged copy, reports, runs).
    const grep = await promisify(execFile)('grep', ['-rl', secret, t.config.paths.artifacts]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect(grep.stdout).toBe('');
  });

  it('refuses unusable input with exit 2', async () => {
    const cli = join(__dirname, '..', 'bin', 'anvil.js');
    const missing = await promisify(execFile)(process.execPath, [cli, 'verify', '/no/such/package'], {
      env: t.env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('/no/such/package is not a folder') });
  });
});
