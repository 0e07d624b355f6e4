import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { taskQueueName } from '../domain/queues';
import { createGateway } from '../gateway/server';
import { materializePackage } from '../tests/helpers/fixture-packages';
import type { verifyPackage } from '../workflows';
import { type Embedded, startEmbedded } from './embedded';

/** The iris fixture, verified and published in the bench's catalog, and a gateway over its Dojo. */
export interface DojoBench {
  embedded: Embedded;
  /** the published task's folder */
  taskDir: string;
  /** opens a session with a step budget that outlasts every iteration; its env id */
  open(): Promise<string>;
  /** one execute_code step through HTTP; fails unless the code printed `ok` */
  step(envId: string, code: string): Promise<void>;
  close(envId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDojoBench(): Promise<DojoBench> {
  // No loop-mounted workspace quota: the bench's sessions outlive its run (their mounts would too).
  const embedded = await startEmbedded(['control', 'llm', 'cpu'], { ANVIL_WORKSPACE_QUOTA_MB: '0' });
  const { anvil, client, config } = embedded;
  const source = await materializePackage('iris-species', join(config.paths.home, 'iris-species'));
  const report = await client.workflow.execute<typeof verifyPackage>('verifyPackage', {
    taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
    workflowId: `bench-verify-${Date.now()}`,
    args: [{ sourceDir: source }],
  });
  const taskDir = join(config.paths.catalog, 'iris-species');
  mkdirSync(config.paths.catalog, { recursive: true });
  cpSync(report.packageDir, taskDir, { recursive: true });

  const app = createGateway({ envs: anvil.envs, auth: { insecureLocalhost: true, limits: config.gateway.limits } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // Node's fetch keeps its connections open between requests (keep-alive), as an agent's client would.
  const headers = { 'content-type': 'application/json' };
  const request = JSON.stringify({ taskId: 'iris-species', budget: { steps: 1000 } });
  return {
    embedded,
    taskDir,
    async open() {
      const created = await fetch(`${url}/v1/envs`, { method: 'POST', headers, body: request });
      return ((await created.json()) as { envId: string }).envId;
    },
    async step(envId, code) {
      const res = await fetch(`${url}/v1/envs/${envId}/step`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ action: 'execute_code', params: { code } }),
      });
      const body = (await res.json()) as { observation: { run?: { stdout: string } } };
      if (body.observation.run?.stdout.trim() !== 'ok') throw new Error(`unexpected step: ${JSON.stringify(body)}`);
    },
    async close(envId) {
      await fetch(`${url}/v1/envs/${envId}`, { method: 'DELETE' });
    },
    async stop() {
      await app.close();
      await embedded.stop();
    },
  };
}
