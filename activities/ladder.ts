import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rungsFor, RUNG_TIMEOUT_S, type RungResult } from '../domain/ladder';
import { ladderScript, packagePaths } from '../package/layout';
import { readManifest } from '../package/manifest';
import type { Sandbox } from '../sandbox/sandbox';
import { gradeBatchInSandbox, gradeInSandbox } from './grading';
import { runKey, withHeartbeat } from './heartbeat';

const RUNG_TEMPLATE = join(__dirname, '..', 'sandbox', 'harness', 'ladder_rung.py');
const LANE_HARNESS = join(__dirname, '..', 'sandbox', 'harness', 'ladder_lane.py');

/** A line of a lane's results.jsonl: how one rung's child process ended. */
interface LaneRecord {
  rung: string;
  exit: number | null;
  signal: number | null;
  timedOut: boolean;
  wallMs: number;
  /** the child's CPU time (user + system): what the rung costs on a quiet machine */
  cpuMs?: number;
}

/** How a rung's run ended when it wrote no submission, from its lane's record and the tail of its log. */
function rungFailure(record: LaneRecord | undefined, log: string, memoryMb: number): string {
  if (!record) return 'its lane ended before it ran (the lane container was killed or timed out)';
  if (record.timedOut) return `timed out after ${RUNG_TIMEOUT_S} s`;
  if (record.signal === 9) return `was killed (signal 9): most likely out of its lane's ${memoryMb} MB`;
  if (record.signal !== null) return `was killed by signal ${record.signal}`;
  if (record.exit === 0) return 'exited 0 without writing submission.csv';
  return `exited ${record.exit}: ${log.trim().split('\n').at(-1)?.slice(0, 300) ?? ''}`;
}

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

    /**
     * Runs several rungs in one container, one after another (sandbox/harness/ladder_lane.py: the
     * ML stack imported once, a forked child per rung, each with its own time limit), then grades
     * all their submissions in one grading container. A rung's crash, time-out or invalid
     * submission is its own result; the others go on.
     */
    async runLadderLane({ packageDir, rungs }: { packageDir: string; rungs: string[] }): Promise<RungResult[]> {
      const { resources } = await readManifest(packageDir);
      const files = packagePaths(packageDir);
      const memoryMb = Math.max(2048, resources.memoryMb);
      await mkdir(scratchDir, { recursive: true });
      const workspace = await mkdtemp(join(scratchDir, 'ladder-lane-'));
      const lane = withHeartbeat(async (signal, phase) => {
        const missing = new Set<string>();
        for (const dir of ['rungs', 'logs', 'out']) {
          await mkdir(join(workspace, dir));
          await chmod(join(workspace, dir), dir === 'rungs' ? 0o755 : 0o777); // the sandbox user writes logs, out
        }
        for (const rung of rungs)
          await copyFile(join(packageDir, ladderScript(rung)), join(workspace, 'rungs', `${rung}.py`)).catch(() =>
            missing.add(rung),
          );
        phase(`running rungs ${rungs.join(', ')}`);
        const limits = {
          cpus: 1,
          memoryMb,
          timeoutS: (RUNG_TIMEOUT_S + 10) * rungs.length + 60,
          pids: 64,
          outputBytes: 64 * 1024,
          tmpMb: 256,
        };
        const run = await sandbox.run(
          {
            code: await readFile(LANE_HARNESS, 'utf8'),
            dataDir: files.public,
            workspaceDir: workspace,
            env: { ANVIL_RUNG_TIMEOUT_S: String(RUNG_TIMEOUT_S) },
            limits,
          },
          { runKey: runKey(`lane-${rungs[0]}`), signal },
        );
        const records = new Map(
          (await readFile(join(workspace, 'results.jsonl'), 'utf8').catch(() => ''))
            .split('\n')
            .filter((line) => line.trim())
            .map((line) => JSON.parse(line) as LaneRecord)
            .map((r) => [r.rung, r]),
        );
        const written = Object.fromEntries(
          rungs
            .filter((r) => !missing.has(r) && existsSync(join(workspace, 'out', `${r}.csv`)))
            .map((r) => [r, join(workspace, 'out', `${r}.csv`)]),
        );
        phase(`grading rungs ${Object.keys(written).join(', ')}`);
        const graded = Object.keys(written).length
          ? await gradeBatchInSandbox(sandbox, {
              packageDir,
              submissions: written,
              scratchDir,
              runKey: runKey(`lane-${rungs[0]}-grade`),
              signal,
            })
          : {};
        const results: RungResult[] = [];
        for (const rung of rungs) {
          const { wallMs, cpuMs } = records.get(rung) ?? {};
          const timing = { ...(wallMs === undefined ? {} : { wallMs }), ...(cpuMs === undefined ? {} : { cpuMs }) };
          const grade = graded[rung];
          if (missing.has(rung)) results.push({ rung, error: `${ladderScript(rung)} is missing` });
          else if (!grade) {
            const log = await readFile(join(workspace, 'logs', `${rung}.log`), 'utf8').catch(() => '');
            const lane = records.size === 0 && run.exitCode !== 0 ? ` (lane: ${run.stderr.trim().slice(-300)})` : '';
            results.push({ rung, error: rungFailure(records.get(rung), log, memoryMb) + lane, ...timing });
          } else
            results.push(
              grade.valid
                ? { rung, score: grade.score!, ...timing }
                : { rung, error: `invalid submission: ${grade.error?.slice(0, 300)}`, ...timing },
            );
        }
        return results;
      });
      return lane.finally(() => rm(workspace, { recursive: true, force: true }));
    },
  };
}

export type LadderActivities = ReturnType<typeof createLadderActivities>;
