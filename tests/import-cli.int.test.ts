import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportOutcome } from '../package/import';
import { createTestEnv, type TestEnv } from './helpers/env';

// `anvil import` end to end: the status it prints, its exit code, and whether the task landed in
// the catalog. The CLI is a client of the test's Temporal server, whose workers run here.
const FIXTURES = join(__dirname, 'fixtures', 'imports');
const BENCH = join(FIXTURES, 'mle-bench', 'mlebench', 'competitions', 'palmer-penguins');
const RAW = join(FIXTURES, 'mle-bench', 'data', 'palmer-penguins', 'raw');

describe('anvil import: statuses, exit codes and the catalog', () => {
  let t: TestEnv;
  const anvil = async (args: string[]) => {
    const cli = join(__dirname, '..', 'bin', 'anvil.js');
    return promisify(execFile)(process.execPath, [cli, ...args], { env: t.env, maxBuffer: 16 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  };
  const catalogIds = async () =>
    (JSON.parse((await anvil(['tasks', 'list', '--json'])).stdout) as { id: string }[]).map((e) => e.id);

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
  });
  afterAll(() => t?.close());

  it('publishes a competition whose data and metric checks pass: status published, warnings, exit 0', async () => {
    const { code, stdout, stderr } = await anvil(['import', 'mle-bench', BENCH, '--raw', RAW, '--json']);
    expect(code, stderr).toBe(0);
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as ImportOutcome;
    expect(outcome).toMatchObject({ taskId: 'palmer-penguins', status: 'published', failed: [] });
    expect(outcome.publishedTo).toBe(join(t.config.paths.catalog, 'palmer-penguins'));
    // the placeholder baseline: the importer's warning, and the execution checks it fails as warnings
    expect(outcome.warnings).toContainEqual(expect.stringMatching(/placeholder/));
    expect(outcome.warnings).toContainEqual(expect.stringMatching(/^check baseline\.beats_trivial failed: /));
    expect(JSON.parse(readFileSync(outcome.report, 'utf8')).status).toBe('rejected');
    expect(await catalogIds()).toContain('palmer-penguins');
  });

  it('rejects a competition whose prepare.py leaks the target: status rejected, exit 1, not published', async () => {
    const leaky = join(mkdtempSync(join(tmpdir(), 'anvil-import-leaky-')), 'palmer-penguins');
    cpSync(BENCH, leaky, { recursive: true });
    const prepare = readFileSync(join(leaky, 'prepare.py'), 'utf8');
    // test.csv keeps the target column
    const leak = prepare.replace('new_test.drop("Species", axis="columns").to_csv', 'new_test.to_csv');
    writeFileSync(join(leaky, 'prepare.py'), leak);

    const args = ['import', 'mle-bench', leaky, '--raw', RAW, '--id', 'penguins-leaky'];
    const { code, stdout, stderr } = await anvil(args);
    expect(code, stderr).toBe(1);
    expect(stdout).toMatch(/^✘ test\.no_target /m);
    const status = stdout.trim().split('\n').at(-1);
    expect(status).toMatch(/^rejected penguins-leaky: not published, its data or metric checks above failed/);
    expect(existsSync(join(t.config.paths.catalog, 'penguins-leaky'))).toBe(false);
    expect(await catalogIds()).not.toContain('penguins-leaky');
  });
});
