import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutHostPaths } from '../domain/failures';
import { envService, http, publishFixture, startGateway } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { materializePackage } from './helpers/fixture-packages';

const exec = promisify(execFile);
const VEGA = join(__dirname, '..', 'node_modules', 'vega-datasets', 'data');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Each class of bad input through the real CLI, against this file's Temporal queues and workers:
 * the printed message names the cause and the fix, and the exit code says which class it is.
 */
describe('errors reach the user', () => {
  let t: TestEnv;
  let dir: string;
  const anvil = async (args: string[], env: Record<string, string> = {}): Promise<Run> => {
    const bin = join(__dirname, '..', 'bin', 'anvil.js');
    try {
      const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { env: { ...t.env, ...env } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as Run;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  /** The text report's lines: `anvil <cmd>: <message>`, type, fix, workflow. */
  const expectReport = (run: Run, code: number, type: string, cause: RegExp, fix: RegExp) => {
    expect(run.code, run.stderr + run.stdout).toBe(code);
    expect(run.stderr).toMatch(cause);
    expect(run.stderr).toContain(`  type: ${type}`);
    expect(run.stderr).toMatch(new RegExp(`\\n  fix: .*${fix.source}`));
    expect(run.stderr + run.stdout).not.toContain('Workflow execution failed');
  };

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    dir = join(t.config.paths.home, 'inputs');
    mkdirSync(join(dir, 'images'), { recursive: true });
    writeFileSync(join(dir, 'empty.csv'), '');
    const weather = readFileSync(join(VEGA, 'seattle-weather.csv'), 'utf8').split('\n');
    writeFileSync(join(dir, 'header-only.csv'), `${weather[0]}\n`);
    copyFileSync(join(VEGA, 'gimp.png'), join(dir, 'binary.csv'));
    for (const png of ['gimp.png', 'ffox.png', '7zip.png']) copyFileSync(join(VEGA, png), join(dir, 'images', png));
    // Real dates with a row number: every column is an id or a date, none can be predicted.
    const dates = weather
      .slice(1)
      .filter(Boolean)
      .map((line, i) => `${i + 1},${line.split(',')[0]}`);
    writeFileSync(join(dir, 'no-target.csv'), ['row_id,date', ...dates].join('\n') + '\n');
  });
  afterAll(() => t?.close());

  it.each([
    ['empty.csv', /is empty/, /header row/],
    ['header-only.csv', /has a header but no data rows/, /header row/],
    ['binary.csv', /looks binary, not text/, /CSV\/TSV/],
    // a folder of images with nothing saying their classes: the image intake's own cause and fix
    ['images', /holds 3 images but neither a labels table .* add labels\.csv .* or move each image/, /CSV\/TSV/],
  ])("forge on %s: the activity's cause, the fix, the workflow link; exit 2", async (input, cause, fix) => {
    const run = await anvil(['forge', join(dir, input)]);
    expectReport(run, 2, 'BadDataset (input), from forgeDataset › intakeDataset', cause, fix);
    expect(run.stderr).toMatch(/\n {2}workflow: forge-/);
  });

  it("forge on data with no usable target: each column's reason, rejected, exit 1, nothing published", async () => {
    const run = await anvil(['forge', join(dir, 'no-target.csv')]);
    expectReport(
      run,
      1,
      'NoUsableTarget (rejected), from forgeDataset › intakeDataset',
      /has no usable target column.*"row_id" is an identifier.*"date" is a date or time/,
      /outcome/,
    );
    const catalog = existsSync(t.config.paths.catalog) ? readdirSync(t.config.paths.catalog) : [];
    expect(catalog.filter((name) => name.startsWith('no-target'))).toEqual([]);
  });

  it('the same text in --json: {"error": {...}} on stdout, same exit code', async () => {
    const text = await anvil(['forge', join(dir, 'empty.csv')]);
    const json = await anvil(['forge', join(dir, 'empty.csv'), '--json']);
    expect(json.code).toBe(2);
    const { error } = JSON.parse(json.stdout.trim().split('\n').at(-1)!);
    expect(error).toMatchObject({ class: 'input', type: 'BadDataset', where: ['forgeDataset', 'intakeDataset'] });
    expect(error.workflowId).toMatch(/^forge-empty/);
    expect(text.stderr).toContain(`anvil forge: ${error.message}\n`);
    expect(text.stderr).toContain(`  fix: ${error.hint}\n`);
  });

  it('forge on an unknown example name lists the names; exit 2', async () => {
    const run = await anvil(['forge', 'example:no-such-data']);
    expectReport(run, 2, 'UnknownDataset (input)', /unknown example dataset "no-such-data"/, /penguins, .*iris/);
  });

  it('verify on a broken package: rejected, the failed check and the fix; exit 1', async () => {
    const broken = await materializePackage('prepare-crashes', join(dir, 'prepare-crashes'));
    const run = await anvil(['verify', broken]);
    expect(run.code, run.stderr + run.stdout).toBe(1);
    expect(run.stdout).toMatch(/\nrejected: \d+\/\d+ checks passed/);
    expect(run.stdout).toMatch(/\n {2}failed: prepare\.runs: prepare\.py exited 1/);
    expect(run.stdout).toContain('  fix: fix prepare.runs');
    const json = JSON.parse((await anvil(['verify', broken, '--json'])).stdout.trim().split('\n').at(-1)!);
    expect(json).toMatchObject({ status: 'rejected', hint: expect.stringContaining('fix prepare.runs') });
  });

  it("grade with a malformed submission: invalid, the metric's reason and the fix; exit 1", async () => {
    const task = await publishFixture(t, 'iris-species');
    const submission = join(dir, 'submission.csv');
    writeFileSync(submission, 'wrong,columns\n1,2\n');
    const run = await anvil(['grade', task, submission]);
    expect(run.code, run.stderr + run.stdout).toBe(1);
    expect(run.stdout).toMatch(/^invalid: .+/);
    expect(run.stdout).toMatch(/\n {2}fix: write submission\.csv in the format of sample_submission\.csv/);
  });

  it("the same text at the CLI, in --json and in the gateway's error body (host paths cut there)", async () => {
    const text = await anvil(['env', 'run', 'no-such-task', '--policy', 'heuristic']);
    const json = await anvil(['env', 'run', 'no-such-task', '--policy', 'heuristic', '--json']);
    expectReport(text, 2, 'Env:unknown-task (input)', /no task "no-such-task" in the catalog/, /anvil tasks list/);
    expect(json.code).toBe(2);
    const { error } = JSON.parse(json.stdout.trim().split('\n').at(-1)!);
    expect(text.stderr).toContain(`anvil env: ${error.message}\n`);
    const { app, url } = await startGateway(envService(t));
    try {
      const res = await http<Record<string, unknown>>(url, 'POST', '/v1/envs', { taskId: 'no-such-task' });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: 'unknown-task',
        message: withoutHostPaths(error.message),
        type: error.type,
        class: error.class,
        where: [],
        hint: error.hint,
      });
      expect(JSON.stringify(res.body)).not.toContain(t.config.paths.home);
    } finally {
      await app.close();
    }
  });

  it('a rollout request the service refuses: the field and what to send; exit 2, --json an object', async () => {
    const run = await anvil(['rollout', '--task', 'iris-species', '--policy', 'heuristic', '--samples', '0']);
    expectReport(run, 2, 'Env:bad-request (input)', /samplesPerTask/, /fix the request/);
    const json = await anvil(['rollout', '--task', 'iris-species', '--samples', '0', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ type: 'Env:bad-request', class: 'input' });
  });

  it('an unreachable Temporal address: infrastructure, exit 3', async () => {
    const run = await anvil(['forge', join(dir, 'empty.csv')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expectReport(run, 3, 'Unreachable (infrastructure)', /cannot reach Temporal at 127\.0\.0\.1:1/, /start the server/);
  });
});
