import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type Docker from 'dockerode';
import type { AnvilConfig } from '../config';
import { DockerSandbox } from '../sandbox/docker';

/** What every worker factory is given; tests pass real local clients. */
export interface WorkerDeps {
  connection: NativeConnection;
  /** a client of the same cluster, for activities that act on other workflows (rollouts on Dojo sessions) */
  client: Client;
  config: AnvilConfig;
  docker: Docker;
  /** a prebuilt workflow bundle (tests build it once); unset = bundle workflows/ at start */
  workflowBundle?: { code: string };
}

/** Where sandbox workers stage short-lived files (e.g. grading folders) on this host. */
export function scratchDir(config: AnvilConfig): string {
  return join(config.paths.artifacts, 'scratch');
}

/**
 * The sandbox of a worker that runs containers: checked (engine up, image present) and cleared of
 * containers that dead workers on this host left behind, before the worker polls.
 */
export async function readySandbox({ config, docker }: WorkerDeps): Promise<DockerSandbox> {
  const sandbox = new DockerSandbox(docker, { image: config.sandbox.image, runsDir: join(config.paths.artifacts, 'runs') });
  await sandbox.check();
  await sandbox.reapOrphans();
  return sandbox;
}
