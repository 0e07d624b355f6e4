import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult, SandboxLimits } from '../domain/sandbox';
import { taskManifestSchema } from '../domain/task';
import { type CheckResult } from '../domain/verification';
import { HARNESS_CHECKS as HARNESS_CHECK_NAMES } from '../activities/verification';
import { runImageChecks } from '../activities/verification-images';
import { replacePreparedData } from '../package/prepared-data';
import { PRIVATE_FILES, PUBLIC_FILES } from '../package/layout';
import { DockerSandbox } from '../sandbox/docker';
import { HarnessReport } from '../sandbox/harness-report';
import { fixtureFile, listBrokenFixtures, listGoodPackages, materializePackage } from './helpers/fixture-packages';

// The assertion stage (sandbox/harness/verify_assertions.py) against the fixture corpus, in real Docker.
const HARNESS = readFileSync(join(__dirname, '..', 'sandbox', 'harness', 'verify_assertions.py'), 'utf8');
const HARNESS_CHECKS: readonly string[] = HARNESS_CHECK_NAMES;
const limits: SandboxLimits = { cpus: 1, memoryMb: 2048, pids: 256, timeoutS: 300, outputBytes: 64 * 1024, tmpMb: 64 };

const root = mkdtempSync(join(tmpdir(), 'anvil-verify-test-'));
const sandbox = new DockerSandbox(new Docker(), { runsDir: join(root, 'runs') });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const good = listGoodPackages();
const broken = listBrokenFixtures();
const caughtByHarness = broken.filter((f) => HARNESS_CHECKS.includes(f.failingCheck));
const caughtElsewhere = broken.filter((f) => !HARNESS_CHECKS.includes(f.failingCheck));

let runs = 0;
function run(code: string, dataDir: string, report?: HarnessReport): Promise<RunResult> {
  return sandbox.run(
    { code, dataDir, limits, env: report?.env },
    { runKey: `verify-assertions-test/${process.pid}/${runs++}`, onStdoutLine: report?.onLine },
  );
}

/** Runs the harness on a package folder and returns its report (from its stdout) and workspace. */
async function verifyDir(dir: string): Promise<{ checks: CheckResult[]; workspaceDir: string }> {
  const report = new HarnessReport();
  const result = await run(HARNESS, dir, report);
  expect(result.exitCode, `harness ${result.exitCode === null ? 'was killed' : 'failed'}:\n${result.stderr}`).toBe(0);
  const checks = report.checks(HARNESS_CHECKS, 'unreported');
  expect(checks.filter((c) => c.detail.includes('unreported')).map((c) => c.name)).toEqual([]);
  for (const c of checks) expect(c.detail, c.name).toMatch(/^[^\n]+$/);
  return { checks, workspaceDir: result.workspaceDir };
}

async function verify(nameOrDefect: string) {
  return verifyDir(await materializePackage(nameOrDefect, join(root, 'packages', nameOrDefect)));
}

/** Each good package is verified once; its tests share the result. */
const verified = new Map<string, ReturnType<typeof verify>>();
function verifyGood(name: string) {
  if (!verified.has(name)) verified.set(name, verify(name));
  return verified.get(name)!;
}

const GRADE = `
import importlib.util, json, pandas as pd
spec = importlib.util.spec_from_file_location("metric", "/data/metric.py")
metric = importlib.util.module_from_spec(spec)
spec.loader.exec_module(metric)
answers = pd.read_csv("/data/answers.csv")
print(json.dumps({name: metric.grade(pd.read_csv(f"/data/{name}.csv"), answers) for name in ("sample_submission", "submission")}))
`;

/** Runs the package's baseline on its prepared public files and grades it beside the sample submission. */
async function scoreBaseline(
  name: string,
  workspaceDir: string,
): Promise<{ sample_submission: number; submission: number }> {
  const baseline = await run(
    readFileSync(fixtureFile(name, 'solutions/baseline.py'), 'utf8'),
    join(workspaceDir, 'public'),
  );
  expect(baseline.exitCode, baseline.stderr).toBe(0);
  const grading = join(root, 'grading', name);
  mkdirSync(grading, { recursive: true });
  chmodSync(grading, 0o755);
  const inputs = {
    'metric.py': fixtureFile(name, 'metric.py'),
    'answers.csv': join(workspaceDir, 'private', 'answers.csv'),
    'sample_submission.csv': join(workspaceDir, 'public', 'sample_submission.csv'),
    'submission.csv': join(baseline.workspaceDir, 'submission.csv'),
  };
  for (const [file, from] of Object.entries(inputs)) {
    copyFileSync(from, join(grading, file));
    chmodSync(join(grading, file), 0o644);
  }
  const graded = await run(GRADE, grading);
  expect(graded.exitCode, graded.stderr).toBe(0);
  return JSON.parse(graded.stdout);
}

const summary = (checks: CheckResult[]) =>
  checks.map((c) => `${c.passed ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n');

describe('verify_assertions harness in the Docker sandbox', () => {
  it.concurrent.each(good)('passes every check on %s and leaves its prepared files', async (name) => {
    const { checks, workspaceDir } = await verifyGood(name);
    expect(
      checks.filter((c) => !c.passed),
      summary(checks),
    ).toEqual([]);
    for (const file of PUBLIC_FILES) expect(existsSync(join(workspaceDir, 'public', file)), file).toBe(true);
    for (const file of PRIVATE_FILES) expect(existsSync(join(workspaceDir, 'private', file)), file).toBe(true);
    expect(existsSync(join(workspaceDir, 'run1')) || existsSync(join(workspaceDir, 'run2'))).toBe(false);
  });

  it.concurrent.each(good)(
    '%s: the baseline runs and clearly beats the sample submission without being perfect',
    async (name) => {
      const { metric } = taskManifestSchema.parse(JSON.parse(readFileSync(fixtureFile(name, 'task.json'), 'utf8')));
      const { sample_submission: sample, submission: baseline } = await scoreBaseline(
        name,
        (await verifyGood(name)).workspaceDir,
      );
      expect(
        metric.higherIsBetter ? baseline > sample : baseline < sample,
        `baseline ${baseline}, sample ${sample}`,
      ).toBe(true);
      const best = metric.bounds?.[metric.higherIsBetter ? 1 : 0];
      if (best != null) {
        // at least a quarter of the way from the sample submission to a perfect score, and short of it
        expect((baseline - sample) / (best - sample)).toBeGreaterThan(0.25);
        expect(baseline).not.toBeCloseTo(best, 6);
      }
    },
  );

  it.concurrent.each(caughtByHarness)('$defect fails $failingCheck', async ({ defect, failingCheck }) => {
    const { checks } = await verify(defect);
    const check = checks.find((c) => c.name === failingCheck)!;
    expect(check.passed, summary(checks)).toBe(false);
    // The check itself caught it (not a dependency), and says what it saw.
    expect(check.detail).not.toMatch(/^not run/);
    expect(check.detail.length).toBeGreaterThan(20);
  });

  it.concurrent.each(caughtElsewhere)(
    '$defect ($failingCheck, caught outside the harness) still prepares',
    async ({ defect, failingCheck }) => {
      const dir = await materializePackage(defect, join(root, 'packages', defect));
      const { checks, workspaceDir } = await verifyDir(dir);
      expect(checks.find((c) => c.name === 'prepare.runs')?.passed, summary(checks)).toBe(true);
      if (failingCheck === 'manifest.valid') {
        expect(taskManifestSchema.safeParse(JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8'))).success).toBe(
          false,
        );
      }
      if (failingCheck.startsWith('images.')) {
        // made on the host from what prepare wrote (activities/verification.ts does the same)
        await replacePreparedData(dir, workspaceDir);
        const { idColumn, target } = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8'));
        const images = await runImageChecks(dir, idColumn, target);
        expect(images.filter((c) => !c.passed).map((c) => c.name)).toEqual([failingCheck]);
      }
      if (failingCheck === 'baseline.runs') {
        const baseline = await run(
          readFileSync(join(dir, 'solutions', 'baseline.py'), 'utf8'),
          join(workspaceDir, 'public'),
        );
        expect(baseline.exitCode).not.toBe(0);
      }
    },
  );

  it('reports every check, without crashing, on an empty folder', async () => {
    const empty = mkdtempSync(join(root, 'empty-'));
    chmodSync(empty, 0o755);
    const { checks } = await verifyDir(empty);
    expect(checks.every((c) => !c.passed)).toBe(true);
    expect(checks.find((c) => c.name === 'files.present')?.detail).toMatch(/^missing: task\.json/);
    expect(checks.find((c) => c.name === 'prepare.runs')?.detail).toBe('not run: manifest.valid failed');
    expect(checks.find((c) => c.name === 'metric.direction')?.detail).toBe('not run: prepare.runs failed');
  });
});
