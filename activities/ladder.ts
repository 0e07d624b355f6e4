import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rungsFor, RUNG_TIMEOUT_S, type RungResult } from '../domain/ladder';
import { ladderScript, packagePaths } from '../package/layout';
import { readManifest } from '../package/manifest';
import type { Sandbox } from '../sandbox/sandbox';
import { gradeInSandbox } from './grading';
import { runKey, withHeartbeat } from './heartbeat';

const RUNG_TEMPLATE = join(__dirname, '..', 'sandbox', 'harness', 'ladder_rung.py');

/** The template with its first line (`CONFIG = {}`) replaced by the rung's config. */
async function rungScript(config: object): Promise<string> {
  const body = (await readFile(RUNG_TEMPLATE, 'utf8')).split('\n').slice(1).join('\n');
  // A JSON string literal is also a valid Python string literal; json.loads reads it back.
  return `import json; CONFIG = json.loads(${JSON.stringify(JSON.stringify(config))})  # one rung of the reference ladder\n${body}`;
}

/** CPU-queue activities of the reference ladder: its scripts in the package, and one rung's run and grade. */
export function createLadderActivities({ sandbox, scratchDir }: { sandbox: Sandbox; scratchDir: string }) {
  return {
    /**
     * The rungs to run, by name. A package that already keeps its ladder (`solutions/ladder/*.py`,
     * e.g. one verified before) runs those scripts; else they are written from domain/ladder.ts.
     * With the metric's direction, to place the rungs against the sample submission.
     */
    async writeLadder({ packageDir }: { packageDir: string }): Promise<{ rungs: string[]; higherIsBetter: boolean }> {
      const manifest = await readManifest(packageDir);
      const { higherIsBetter } = manifest.metric;
      const dir = packagePaths(packageDir).ladder;
      const kept = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.py')).sort() : [];
      if (kept.length > 0) return { rungs: kept.map((f) => f.slice(0, -'.py'.length)), higherIsBetter };
      const task = {
        id: manifest.idColumn,
        target: manifest.target,
        taskType: manifest.taskType,
        metric: manifest.metric.name,
      };
      await mkdir(dir, { recursive: true });
      const rungs = rungsFor(manifest.taskType, manifest.modality);
      for (const rung of rungs)
        await writeFile(join(packageDir, ladderScript(rung.name)), await rungScript({ ...task, rung }));
      return { rungs: rungs.map((r) => r.name), higherIsBetter };
    },

    /**
     * Runs one rung with only public/ mounted, then grades its submission in the grading container.
     * A crash, a time-out or an invalid submission is the rung's result (its `error`), not a failure.
     */
    async runLadderRung({ packageDir, rung }: { packageDir: string; rung: string }): Promise<RungResult> {
      const { resources } = await readManifest(packageDir);
      const files = packagePaths(packageDir);
      return withHeartbeat(async (signal, phase) => {
        phase(`running rung ${rung}`);
        const code = await readFile(join(packageDir, ladderScript(rung)), 'utf8').catch(() => '');
        const limits = {
          cpus: 1,
          memoryMb: Math.max(2048, resources.memoryMb),
          timeoutS: RUNG_TIMEOUT_S,
          pids: 64,
          outputBytes: 64 * 1024,
          tmpMb: 256,
        };
        const run = await sandbox.run(
          { code: code || `raise SystemExit("${ladderScript(rung)} is missing")`, dataDir: files.public, limits },
          { runKey: runKey(rung), signal },
        );
        try {
          const submission = join(run.workspaceDir, 'submission.csv');
          if (run.exitCode !== 0 || !existsSync(submission)) {
            const how = run.timedOut
              ? `timed out after ${RUNG_TIMEOUT_S} s`
              : run.oomKilled
                ? `ran out of its ${limits.memoryMb} MB`
                : run.exitCode === 0
                  ? 'exited 0 without writing submission.csv'
                  : `exited ${run.exitCode}: ${run.stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? ''}`;
            return { rung, error: how, wallMs: run.wallMs };
          }
          phase(`grading rung ${rung}`);
          const graded = await gradeInSandbox(sandbox, {
            packageDir,
            submissionFile: submission,
            scratchDir,
            runKey: runKey(`${rung}-grade`),
            signal,
          });
          return graded.valid
            ? { rung, score: graded.score!, wallMs: run.wallMs }
            : { rung, error: `invalid submission: ${graded.error?.slice(0, 300)}`, wallMs: run.wallMs };
        } finally {
          await rm(run.workspaceDir, { recursive: true, force: true });
        }
      });
    },
  };
}

export type LadderActivities = ReturnType<typeof createLadderActivities>;
