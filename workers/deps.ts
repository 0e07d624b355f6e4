import { join } from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import type Docker from 'dockerode';
import type { AnvilClient } from '../client';
import type { AnvilConfig } from '../config';
import type { CatalogOpener } from '../package/open-catalog';
import { DockerSandbox } from '../sandbox/docker';
import { LocalSandbox } from '../sandbox/local';

/** What every worker factory is given; tests pass real local clients. */
export interface WorkerDeps {
  connection: NativeConnection;
  /** the client of the same cluster, for activities that act on other workflows (episodes on Dojo sessions) */
  anvil: AnvilClient;
  config: AnvilConfig;
  docker: Docker;
  /** the catalogs, opened once per process (the store's, with `store.backend: s3`); unset = opened by the worker */
  catalogs?: CatalogOpener;
  /** a prebuilt workflow bundle (tests build it once); unset = bundle workflows/ at start */
  workflowBundle?: { code: string };
}

/** The folders that paths in workflow inputs must lie under (activities/confine.ts). */
export function inputRoots(config: AnvilConfig): string[] {
  return [config.paths.home, config.paths.artifacts, config.paths.catalog];
}

/** Where sandbox workers stage short-lived files (e.g. grading folders) on this host. */
export function scratchDir(config: AnvilConfig): string {
  return join(config.paths.artifacts, 'scratch');
}

/**
 * The sandbox of a worker that runs code, by `sandbox.backend`: checked (Docker: engine up, image
 * present; local: Python runs) and cleared of runs that dead workers on this host left behind,
 * before the worker polls. The local backend never touches Docker.
 */
export async function readySandbox({ config, docker }: WorkerDeps): Promise<DockerSandbox | LocalSandbox> {
  const runsDir = join(config.paths.artifacts, 'runs');
  const sandbox =
    config.sandbox.backend === 'local'
      ? new LocalSandbox({ runsDir, python: config.sandbox.python })
      : new DockerSandbox(docker, { image: config.sandbox.image, runsDir });
  await sandbox.check();
  await sandbox.reapOrphans();
  return sandbox;
}
