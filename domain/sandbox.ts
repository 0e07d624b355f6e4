import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** What a sandboxed run may use. Every run gets all of them (config supplies the defaults). */
export const sandboxLimitsSchema = z.strictObject({
  cpus: z.coerce.number().positive().max(64),
  memoryMb: positiveInt.min(64),
  pids: positiveInt.min(8),
  timeoutS: positiveInt,
  /** stdout and stderr are each kept up to this many bytes (head and tail); the rest is counted. */
  outputBytes: positiveInt.min(1024),
  /** size of the writable in-memory /tmp */
  tmpMb: positiveInt,
});
export type SandboxLimits = z.infer<typeof sandboxLimitsSchema>;

/** One Python run: `code` runs as /code/main.py with /data read-only and /workspace writable. */
export const runSpecSchema = z.strictObject({
  code: z.string().min(1, 'code is empty: pass the Python source to run'),
  /** host directory mounted read-only at /data */
  dataDir: z.string().min(1).optional(),
  /** host directory mounted read-write at /workspace; unset = a fresh one per run */
  workspaceDir: z.string().min(1).optional(),
  limits: sandboxLimitsSchema.partial().optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
  /** ask for a GPU (only GPU workers take such runs) */
  gpu: z.boolean().optional(),
});
export type RunSpec = z.infer<typeof runSpecSchema>;

export interface RunResult {
  /** null when the process was killed before it exited on its own */
  exitCode: number | null;
  timedOut: boolean;
  oomKilled: boolean;
  stdout: string;
  stderr: string;
  /** bytes the process wrote, including what was cut from `stdout`/`stderr` */
  stdoutBytes: number;
  stderrBytes: number;
  outputTruncated: boolean;
  wallMs: number;
  /** host path of the run's /workspace, where its output files stay */
  workspaceDir: string;
}

/** A one-line account of how a run ended, for errors and logs. */
export function describeRunEnd(
  r: Pick<RunResult, 'exitCode' | 'timedOut' | 'oomKilled'>,
  limits: Pick<SandboxLimits, 'timeoutS' | 'memoryMb'>,
): string {
  if (r.timedOut) return `killed at its time limit of ${limits.timeoutS} s`;
  if (r.oomKilled) return `killed for using more than its ${limits.memoryMb} MB of memory`;
  if (r.exitCode === 0) return 'exited 0';
  return `exited ${r.exitCode}`;
}
