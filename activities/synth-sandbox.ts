import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYOUT, packagePaths } from '../package/layout';
import { readManifestFields } from '../package/manifest';
import type { Sandbox } from '../sandbox/sandbox';
import { gradeInSandbox } from './grading';
import { runKey, withHeartbeat } from './heartbeat';

const GENERATOR_LIMITS = { cpus: 1, memoryMb: 2048, pids: 64, timeoutS: 300, outputBytes: 64 * 1024, tmpMb: 256 };
/** Reference solutions other than solutions/baseline.py (which verification runs). */
const REFERENCE = /^reference-[A-Za-z0-9_-]+\.py$/;

async function hashTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (at: string, prefix: string): Promise<void> => {
    for (const entry of (await readdir(at, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) await walk(join(at, entry.name), `${prefix}${entry.name}/`);
      else hash.update(`${prefix}${entry.name}\0`).update(await readFile(join(at, entry.name)));
    }
  };
  await walk(dir, '');
  return hash.digest('hex').slice(0, 16);
}

/** CPU-queue activities of Synth: the generator and the reference solutions, in the sandbox. */
export function createSynthSandboxActivities({ sandbox, scratchDir }: { sandbox: Sandbox; scratchDir: string }) {
  return {
    /**
     * Runs the draft's generator.py twice (it sees only itself at /data) and keeps the first run's
     * raw/ as the package's raw/. Returns both runs' hashes of raw/, or why it failed.
     */
    async runGenerator({ draftDir }: { draftDir: string }): Promise<{ hashes: [string, string]; error?: string }> {
      const draft = packagePaths(draftDir);
      const missing = `raise SystemExit("${LAYOUT.generator} is missing")`;
      const code = await readFile(draft.generator, 'utf8').catch(() => missing);
      return withHeartbeat(async (signal, phase) => {
        const hashes: string[] = [];
        await rm(draft.raw, { recursive: true, force: true });
        for (const attempt of [1, 2]) {
          phase(`generator run ${attempt}`);
          const run = await sandbox.run(
            { code, limits: GENERATOR_LIMITS },
            { runKey: runKey(`generate-${attempt}`), signal },
          );
          // the generator writes the package's raw/ into its workspace
          const { raw, rawTable } = packagePaths(run.workspaceDir);
          if (run.exitCode !== 0 || !existsSync(rawTable)) {
            await rm(run.workspaceDir, { recursive: true, force: true });
            const how = run.timedOut
              ? `timed out after ${GENERATOR_LIMITS.timeoutS} s`
              : run.oomKilled
                ? 'ran out of memory'
                : `exited ${run.exitCode}`;
            const what = `${LAYOUT.generator} ${how}${run.exitCode === 0 ? ` without writing ${LAYOUT.rawTable}` : ''}`;
            return { hashes: ['', ''], error: `${what}: ${run.stderr.slice(-1500)}` };
          }
          hashes.push(await hashTree(raw));
          if (attempt === 1) await cp(raw, draft.raw, { recursive: true });
          await rm(run.workspaceDir, { recursive: true, force: true });
        }
        return { hashes: [hashes[0]!, hashes[1]!] };
      });
    },

    /**
     * Each solutions/reference-*.py run like the baseline (public/ only, the task's limits) and
     * graded, and private/oracle.csv (the rule without noise) graded: scores by file name.
     */
    async runReferences({
      packageDir,
    }: {
      packageDir: string;
    }): Promise<{ references: Record<string, number | undefined>; oracle?: number; errors: string[] }> {
      const files = packagePaths(packageDir);
      // not validated: the references run on a draft whatever its verdict
      type Resources = { resources: { cpus: number; memoryMb: number; timeLimitS: number } };
      const manifest = (await readManifestFields(packageDir)) as Resources;
      const names = (await readdir(files.solutions).catch(() => [])).filter((n) => REFERENCE.test(n)).sort();
      return withHeartbeat(async (signal, phase) => {
        const references: Record<string, number | undefined> = {};
        const errors: string[] = [];
        const grade = (file: string, key: string) =>
          gradeInSandbox(sandbox, { packageDir, submissionFile: file, scratchDir, runKey: runKey(key), signal });
        for (const name of names) {
          phase(`running ${name}`);
          const { cpus, memoryMb, timeLimitS } = manifest.resources;
          const run = await sandbox.run(
            {
              code: await readFile(join(files.solutions, name), 'utf8'),
              dataDir: files.public,
              limits: { cpus, memoryMb, timeoutS: timeLimitS, pids: 256, outputBytes: 64 * 1024, tmpMb: 512 },
            },
            { runKey: runKey(name), signal },
          );
          const graded =
            run.exitCode === 0
              ? await grade(join(run.workspaceDir, 'submission.csv'), `${name}-grade`)
              : { valid: false, error: `exited ${run.exitCode}: ${run.stderr.slice(-500)}` };
          await rm(run.workspaceDir, { recursive: true, force: true });
          references[name] = graded.valid ? graded.score : undefined;
          if (!graded.valid) errors.push(`${name}: ${graded.error}`);
        }
        phase('grading the oracle');
        const oracle = await grade(files.oracle, 'oracle-grade');
        if (!oracle.valid) errors.push(`${LAYOUT.oracle}: ${oracle.error}`);
        return { references, oracle: oracle.valid ? oracle.score : undefined, errors };
      });
    },
  };
}

export type SynthSandboxActivities = ReturnType<typeof createSynthSandboxActivities>;
