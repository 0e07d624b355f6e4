import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { DockerSandbox } from '../sandbox/docker';
import { ensureDevServer } from '../client/dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One real Temporal dev server (in memory, no UI) for the whole run, and the workflow bundle built
 * once. Docker and the sandbox image must exist: `make test` sets them up first.
 */
export default async function setup(project: TestProject) {
  await new DockerSandbox(new Docker(), { runsDir: tmpdir() }).check();

  const home = mkdtempSync(join(tmpdir(), 'anvil-test-temporal-'));
  const server = await ensureDevServer({
    port: await freePort(),
    uiPort: null,
    dbFile: null,
    namespace: 'default',
    detached: false,
    home,
  });
  if (server.reused) throw new Error('a fresh port answered as a Temporal server; retry');

  const teardown = async () => {
    server.process?.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
    const bundle = await bundleWorkflowCode({
      workflowsPath: join(__dirname, '..', 'workflows', 'index.ts'),
      logger: quiet,
    });
    const bundlePath = join(home, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    project.provide('temporalAddress', server.address);
    project.provide('workflowBundlePath', bundlePath);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
