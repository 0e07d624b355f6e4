import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { better, bestScore, improvementOver } from '../domain/metrics';
import { sandboxProfileOf, TASK_SCHEMA, type TaskManifest } from '../domain/task';
import { CHECKS, type CheckResult } from '../domain/verification';
import { LAYOUT, packagePaths } from '../package/layout';
import { linksOfPackage } from '../package/links';
import { inspectManifest, readManifest } from '../package/manifest';
import { replacePreparedData } from '../package/prepared-data';
import { HarnessReport } from '../sandbox/harness-report';
import type { Sandbox } from '../sandbox/sandbox';
import { type GradeResult, gradeInSandbox } from './grading';
import { runKey, withHeartbeat } from './heartbeat';
import { IMAGE_CHECKS, runImageChecks } from './verification-images';

const ASSERTIONS_HARNESS = join(__dirname, '..', 'sandbox', 'harness', 'verify_assertions.py');
/** The baseline must close at least this share of the gap between trivial and perfect. */
export const BEATS_TRIVIAL_MARGIN = 0.05;
/** A baseline this close to perfect smells of leakage. */
const PERFECT = 0.999;

export interface ExecutionResult {
  checks: CheckResult[];
  scores: { trivial?: number; baseline?: number };
}

/** The assertion checks the harness reports (the others are made here). */
export const HARNESS_CHECKS = CHECKS.assertions.filter(
  (n) => n !== 'manifest.valid' && n !== 'files.no_links' && !(IMAGE_CHECKS as readonly string[]).includes(n),
);

/** `files.no_links`: the package holds only folders and regular files (checked without following any link). */
async function linksCheck(packageDir: string): Promise<CheckResult> {
  const links = await linksOfPackage(packageDir);
  return links.length
    ? {
        name: 'files.no_links',
        passed: false,
        detail: `the package holds ${links.length} links or special files, never followed: ${links.slice(0, 3).join(', ')}; replace each with the file itself`,
        evidence: { links: links.slice(0, 20) },
      }
    : { name: 'files.no_links', passed: true, detail: 'the package holds only folders and regular files' };
}

/** The `manifest.valid` check of the package's manifest, and the manifest when it passes. */
async function manifestCheck(packageDir: string): Promise<{ check: CheckResult; manifest?: TaskManifest }> {
  const reading = await inspectManifest(packageDir);
  if ('problem' in reading) {
    const evidence = reading.issues ? { evidence: reading.issues } : {};
    return { check: { name: 'manifest.valid', passed: false, detail: reading.problem, ...evidence } };
  }
  // `gpu` tells the verifying workflow where the execution stage runs.
  const { manifest } = reading;
  const detail = `${LAYOUT.manifest} matches ${TASK_SCHEMA}`;
  const evidence = { gpu: manifest.resources.gpu };
  return { check: { name: 'manifest.valid', passed: true, detail, evidence }, manifest };
}

/** CPU-queue activities of verification; they write public/ and private/ into the package. */
export function createVerificationActivities({ sandbox, scratchDir }: { sandbox: Sandbox; scratchDir: string }) {
  return {
    /** The deterministic assertions: links and manifest here, the rest by the harness in the sandbox. */
    async runAssertions({ packageDir }: { packageDir: string }): Promise<CheckResult[]> {
      const links = await linksCheck(packageDir);
      if (!links.passed) {
        // Nothing of the package is read, here or in the sandbox, while a link could lead outside it.
        const rest = CHECKS.assertions.filter((n) => n !== 'files.no_links');
        return [links, ...rest.map((name) => ({ name, passed: false, detail: 'not run: files.no_links failed' }))];
      }
      const { check: manifest, manifest: parsed } = await manifestCheck(packageDir);
      const memoryMb = Math.max(2048, parsed?.resources.memoryMb ?? 0);
      const report = new HarnessReport();
      const run = await withHeartbeat(async (signal) =>
        sandbox.run(
          {
            code: await readFile(ASSERTIONS_HARNESS, 'utf8'),
            dataDir: packageDir,
            env: report.env,
            limits: { cpus: 1, memoryMb, pids: 128, timeoutS: 900, outputBytes: 256 * 1024, tmpMb: 256 },
          },
          { runKey: runKey(), signal, onStdoutLine: report.onLine },
        ),
      );
      const how = run.timedOut ? 'timed out' : run.oomKilled ? 'out of memory' : `exit ${run.exitCode}`;
      const checks = report.checks(HARNESS_CHECKS, `the harness ended (${how}): ${run.stderr.slice(-1000)}`);
      await replacePreparedData(packageDir, run.workspaceDir);
      await rm(run.workspaceDir, { recursive: true, force: true });
      const prepared = checks.find((c) => c.name === 'prepare.runs')?.passed && parsed;
      const images = prepared
        ? await runImageChecks(packageDir, parsed.idColumn, parsed.target).catch((err: Error) =>
            IMAGE_CHECKS.map((name) => ({
              name,
              passed: false,
              detail: `public/ or the answers unreadable: ${err.message}`,
            })),
          )
        : IMAGE_CHECKS.map((name) => ({ name, passed: false, detail: 'not run: prepare.runs failed' }));
      return [links, manifest, ...checks, ...images].sort(
        (a, b) => CHECKS.assertions.indexOf(a.name as never) - CHECKS.assertions.indexOf(b.name as never),
      );
    },

    /**
     * The execution stage: the trivial (sample) submission and the baseline solution, run with only
     * public/ mounted and within the task's budget, each graded in a separate container.
     */
    async runExecution({ packageDir }: { packageDir: string }): Promise<ExecutionResult> {
      const manifest = await readManifest(packageDir);
      const { metric, resources } = manifest;
      const files = packagePaths(packageDir);
      return withHeartbeat(async (signal, phase) => {
        const grade = (file: string, key: string): Promise<GradeResult> =>
          gradeInSandbox(sandbox, { packageDir, submissionFile: file, scratchDir, runKey: runKey(key), signal });
        phase('grading the sample submission');
        const trivial = await grade(files.sampleSubmission, 'trivial');
        phase('running the baseline');
        const code = await readFile(files.baseline, 'utf8').catch(() => '');
        const run = await sandbox.run(
          {
            code: code || `raise SystemExit("${LAYOUT.baseline} is missing")`,
            dataDir: files.public,
            limits: {
              cpus: resources.cpus,
              memoryMb: resources.memoryMb,
              timeoutS: resources.timeLimitS,
              pids: 256,
              outputBytes: 256 * 1024,
              tmpMb: 512,
            },
          },
          { runKey: runKey('baseline'), signal, profile: sandboxProfileOf(manifest) },
        );
        const submission = join(run.workspaceDir, 'submission.csv');
        const ran = run.exitCode === 0 && existsSync(submission);
        const how = run.timedOut
          ? `timed out after ${resources.timeLimitS} s`
          : run.oomKilled
            ? `ran out of its ${resources.memoryMb} MB`
            : `exited ${run.exitCode}`;
        const checks: CheckResult[] = [
          {
            name: 'baseline.runs',
            passed: ran,
            detail: ran
              ? `finished in ${(run.wallMs / 1000).toFixed(1)} s`
              : `${LAYOUT.baseline} ${how}${run.exitCode === 0 ? ' without writing submission.csv' : ''}`,
            evidence: ran ? undefined : { stderr: run.stderr.slice(-2000) },
          },
        ];
        phase('grading the baseline');
        const baseline = ran ? await grade(submission, 'baseline-grade') : undefined;
        await rm(run.workspaceDir, { recursive: true, force: true });
        checks.push({
          name: 'baseline.valid',
          passed: !!baseline?.valid,
          detail: !ran
            ? 'not run: baseline.runs failed'
            : baseline?.valid
              ? `scored ${baseline.score}`
              : `invalid submission: ${baseline?.error}`,
        });
        const t = trivial.valid ? trivial.score! : undefined;
        const b = baseline?.valid ? baseline.score! : undefined;
        if (t === undefined) {
          checks.push({
            name: 'baseline.beats_trivial',
            passed: false,
            detail: `the sample submission does not grade: ${trivial.error}`,
          });
        } else if (b === undefined) {
          checks.push({ name: 'baseline.beats_trivial', passed: false, detail: 'not run: no valid baseline score' });
        } else {
          const gain = improvementOver(metric, b, t);
          checks.push({
            name: 'baseline.beats_trivial',
            passed: better(metric, b, t) && gain >= BEATS_TRIVIAL_MARGIN,
            detail: `baseline ${b.toPrecision(4)} vs trivial ${t.toPrecision(4)}: closes ${(gain * 100).toFixed(1)}% of the gap to perfect (needs ${BEATS_TRIVIAL_MARGIN * 100}%)`,
            evidence: { baseline: b, trivial: t },
          });
        }
        const best = bestScore(metric);
        const perfect =
          b !== undefined &&
          t !== undefined &&
          (improvementOver(metric, b, t) >= PERFECT || (best !== null && Math.abs(b - best) < 1e-9));
        checks.push({
          name: 'baseline.not_perfect',
          passed: b !== undefined && !perfect,
          detail:
            b === undefined
              ? 'not run: no valid baseline score'
              : perfect
                ? `the baseline scores ${b} — (nearly) perfect, which smells of leakage`
                : 'the baseline leaves room to improve',
        });
        return { checks, scores: { trivial: t, baseline: b } };
      });
    },

    /**
     * The Designer's tool: its code, run in the sandbox with the dataset (data.csv, profile.json)
     * read-only at /data. Returns what a model should see: how it ended and the output's tails.
     */
    async runDesignerCode({ profileFile, code }: { profileFile: string; code: string }): Promise<string> {
      const run = await withHeartbeat((signal) =>
        sandbox.run(
          {
            code,
            dataDir: dirname(profileFile),
            limits: { cpus: 1, memoryMb: 2048, pids: 64, timeoutS: 120, outputBytes: 16 * 1024, tmpMb: 256 },
          },
          { runKey: runKey(), signal },
        ),
      );
      await rm(run.workspaceDir, { recursive: true, force: true });
      const how = run.timedOut
        ? 'killed at its 120 s limit'
        : run.oomKilled
          ? 'killed for using over 2 GB'
          : `exit ${run.exitCode}`;
      return `${how}\n--- stdout ---\n${run.stdout.slice(-6000)}\n--- stderr ---\n${run.stderr.slice(-3000)}`;
    },

    /** Grades any submission file against a package's private answers. */
    async gradeSubmission({
      packageDir,
      submissionFile,
    }: {
      packageDir: string;
      submissionFile: string;
    }): Promise<GradeResult> {
      return withHeartbeat((signal) =>
        gradeInSandbox(sandbox, { packageDir, submissionFile, scratchDir, runKey: runKey(), signal }),
      );
    },
  };
}

export type VerificationActivities = ReturnType<typeof createVerificationActivities>;
