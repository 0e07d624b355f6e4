import { join } from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import type Docker from 'dockerode';
import type { AnvilConfig } from '../config';

/** What every worker factory is given; tests pass real local clients. */
export interface WorkerDeps {
  connection: NativeConnection;
  config: AnvilConfig;
  docker: Docker;
  /** a prebuilt workflow bundle (tests build it once); unset = bundle workflows/ at start */
  workflowBundle?: { code: string };
}

/** Where sandbox runs keep their code and workspaces on this host. */
export function runsDir(config: AnvilConfig): string {
  return join(config.paths.artifacts, 'runs');
}
