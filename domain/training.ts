import { z } from 'zod';
import { sandboxLimitsSchema } from './sandbox';

/**
 * The progress protocol (docs/training.md): a stdout line that starts with this prefix carries one
 * JSON object, e.g. `ANVIL_PROGRESS {"step": 40, "metric": {"name": "loss", "value": 0.31}}`.
 */
export const PROGRESS_PREFIX = 'ANVIL_PROGRESS ';

/** Where the training code finds things inside its container. */
export const TRAINING_WORKSPACE = '/workspace';
export const TRAINING_CHECKPOINT_DIR = `${TRAINING_WORKSPACE}/checkpoints`;
export const TRAINING_DATA_DIR = '/data';
/** Training runs are long: the time limit unless the spec sets one (24 h). */
export const TRAINING_DEFAULT_TIMEOUT_S = 24 * 3600;

/**
 * A checkpoint path as the code reports it, normalised to a path relative to the workspace:
 * relative, or absolute under /workspace; never `..`. Undefined when it is neither.
 */
export function workspaceRelative(path: string): string | undefined {
  let rest = path;
  if (rest.startsWith('/')) {
    if (!rest.startsWith(`${TRAINING_WORKSPACE}/`)) return undefined;
    rest = rest.slice(TRAINING_WORKSPACE.length + 1);
  }
  const parts = rest.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..') || rest.includes('\0')) return undefined;
  return parts.join('/');
}

const checkpointPath = z
  .string()
  .max(1024)
  .transform((p, ctx) => {
    const rel = workspaceRelative(p);
    if (rel === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${p}" is not inside the workspace: give a path relative to ${TRAINING_WORKSPACE} (no "..")`,
      });
      return z.NEVER;
    }
    return rel;
  });

export const metricSchema = z.strictObject({ name: z.string().min(1).max(100), value: z.number().finite() });

/** One progress update; every field is optional and absent fields keep their last value. */
export const progressUpdateSchema = z.object({
  step: z.number().int().nonnegative().optional(),
  epoch: z.number().nonnegative().optional(),
  metric: metricSchema.optional(),
  /** a checkpoint that is complete on disk, relative to the workspace */
  checkpoint: checkpointPath.optional(),
  message: z
    .string()
    .transform((m) => m.slice(0, 500))
    .optional(),
});
export type ProgressUpdate = z.infer<typeof progressUpdateSchema>;

export type ProgressLine = { ok: true; update: ProgressUpdate } | { ok: false; error: string };

/** Undefined for an ordinary output line; otherwise the update, or why the line was ignored. */
export function parseProgressLine(line: string): ProgressLine | undefined {
  if (!line.startsWith(PROGRESS_PREFIX)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line.slice(PROGRESS_PREFIX.length));
  } catch (err) {
    return {
      ok: false,
      error: `not JSON (${(err as Error).message}); print one JSON object after "${PROGRESS_PREFIX.trim()} " (NaN/Infinity are not JSON)`,
    };
  }
  const parsed = progressUpdateSchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; '),
    };
  return { ok: true, update: parsed.data };
}

/** The latest known progress of a run. */
export interface TrainingProgress {
  step?: number;
  epoch?: number;
  metric?: z.infer<typeof metricSchema>;
  /** the last complete checkpoint, relative to the workspace */
  checkpoint?: string;
  /** the step reported with (or before) that checkpoint */
  checkpointStep?: number;
  message?: string;
}

/** Folds an update into the progress so far (pure). */
export function applyProgress<P extends TrainingProgress>(progress: P, update: ProgressUpdate): P {
  const next: P = { ...progress };
  if (update.step !== undefined) next.step = update.step;
  if (update.epoch !== undefined) next.epoch = update.epoch;
  if (update.metric) next.metric = update.metric;
  if (update.message !== undefined) next.message = update.message;
  if (update.checkpoint) {
    next.checkpoint = update.checkpoint;
    next.checkpointStep = next.step;
  }
  return next;
}

/** What `runTraining` heartbeats (the Temporal UI shows it as the pending activity's details). */
export interface TrainingHeartbeat extends TrainingProgress {
  phase: 'starting' | 'running';
  /** this activity attempt (2+ after a lost worker or a retried start) */
  attempt: number;
  /** the checkpoint (relative to the workspace) this attempt resumed from */
  resumedFrom?: string;
  /** host folder of the run's workspace on the artifact store */
  workspaceDir: string;
  /** seconds this attempt has run */
  elapsedS: number;
  /** when the last progress line arrived (ISO 8601) */
  updatedAt?: string;
  /** why the last malformed progress line was ignored */
  protocolError?: string;
}

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
  .refine((k) => !k.startsWith('ANVIL_'), 'ANVIL_* variables are set by Anvil; choose another name');

/** One training run: `code` runs as /code/main.py; see docs/training.md. */
export const trainingSpecSchema = z.strictObject({
  code: z.string().min(1, 'code is empty: pass the Python training script'),
  /** host directory mounted read-only at /data (must be readable by others) */
  dataDir: z.string().min(1).optional(),
  limits: sandboxLimitsSchema.partial().optional(),
  env: z.record(envName, z.string()).optional(),
  /** run on the GPU queue */
  gpu: z.boolean().optional(),
});
export type TrainingSpec = z.infer<typeof trainingSpecSchema>;

export interface TrainingResult extends TrainingProgress {
  /** the attempt that finished */
  attempt: number;
  resumedFrom?: string;
  workspaceDir: string;
  checkpointDir: string;
  wallMs: number;
  /** the ends of the final attempt's output */
  stdoutTail: string;
  stderrTail: string;
}
