import type { RunResult, RunSpec } from '../domain/sandbox';
import { sandboxActivities } from './activity-proxies';

/** One sandboxed Python run, as a workflow: the smallest path client → workflow → activity → container. */
export async function sandboxRun(spec: RunSpec): Promise<RunResult> {
  return sandboxActivities(spec.gpu ? 'gpu' : 'cpu').runInSandbox(spec);
}
