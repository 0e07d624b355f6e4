import type { SandboxProfile } from '../domain/task';
import type { RunResult, RunSpec, SandboxLimits } from '../domain/sandbox';

export interface RunOptions {
  /**
   * Names the run stably across retries of the same activity: a retry replaces whatever a lost
   * attempt left behind under the same key.
   */
  runKey: string;
  /** aborting kills the run at once */
  signal?: AbortSignal;
  /** called with each complete stdout line as it arrives, before output caps apply (progress protocol) */
  onStdoutLine?: (line: string) => void;
  /** host GPU indices this run may use (`nvidia-smi` numbering); unset or empty = no GPU */
  gpus?: string[];
  /** the task's sandbox image profile (domain/task.ts); unset = the default image */
  profile?: SandboxProfile;
}

/** A run with every limit resolved. */
export type ResolvedRunSpec = Omit<RunSpec, 'limits'> & { limits: SandboxLimits };

/** Where untrusted Python runs. */
export interface Sandbox {
  run(spec: ResolvedRunSpec, options: RunOptions): Promise<RunResult>;
  /** Removes runs left by dead workers of this host; returns how many. Called at worker start. */
  reapOrphans(): Promise<number>;
}
