import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// `anvil import` on input it cannot use: exit 2 and a message saying what is missing, before any
// engine is needed (no TEMPORAL_ADDRESS: the command would start one were it to get that far).
const FIXTURES = join(__dirname, 'fixtures', 'imports');
const BENCH = join(FIXTURES, 'mle-bench', 'mlebench', 'competitions', 'palmer-penguins');
const DOJO = join(FIXTURES, 'mle-dojo', 'mledojo', 'competitions', 'car-fuel-efficiency');

async function anvil(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'anvil-import-cli-'));
  const env = { ...process.env, ANVIL_HOME: home, ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json') };
  const cli = join(__dirname, '..', 'bin', 'anvil.js');
  const done = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: home, env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  return { ...done, catalogued: existsSync(join(home, 'catalog')) };
}

describe('anvil import on unusable input', () => {
  it.each([
    [
      'a folder that does not exist',
      ['mle-bench', '/no/such/dir'],
      [/\/no\/such\/dir is not a folder: pass an MLE-bench/],
    ],
    [
      'an MLE-Dojo folder as MLE-bench',
      ['mle-bench', DOJO],
      [
        /is not an MLE-bench competition folder: it has no config\.yaml, prepare\.py, grade\.py, description\.md/,
        /It looks like MLE-Dojo's: run `anvil import mle-dojo` on it/,
      ],
    ],
    [
      'an MLE-bench folder as MLE-Dojo',
      ['mle-dojo', BENCH],
      [
        /is not an MLE-Dojo competition folder: it has no utils\/prepare\.py, utils\/metric\.py\./,
        /anvil import mle-bench/,
      ],
    ],
    [
      'a competition without its raw data',
      ['mle-bench', BENCH],
      [/MLE-bench competition folders do not ship data.*--raw/],
    ],
    ['an unknown layout', ['kaggle', BENCH], [/usage: anvil import mle-bench\|mle-dojo/]],
    ['a bad task type', ['mle-bench', BENCH, '--task-type', 'clustering'], [/--task-type must be one of/]],
  ])('refuses %s with exit 2, saying what is missing; nothing reaches the catalog', async (_what, args, messages) => {
    const { code, stdout, stderr, catalogued } = await anvil(['import', ...args]);
    expect(code, stdout + stderr).toBe(2);
    for (const message of messages) expect(stderr).toMatch(message);
    expect(catalogued).toBe(false);
  });

  it('documents its statuses and exit codes in its help', async () => {
    const { code, stdout } = await anvil(['import', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/published .*exit 0/s);
    expect(stdout).toMatch(/rejected .*exit 1/s);
    expect(stdout).toMatch(/Exit 2: unusable input/);
    expect(stdout).toMatch(/Exit 3: infrastructure \(Temporal or Docker down\)/);
  });
});
