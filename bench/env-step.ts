/**
 * Latency of one trivial Dojo step end to end — HTTP → gateway → Temporal Update → activity on the
 * session's host queue → `docker exec` in the warm container → observation — divided by a plain
 * `docker exec` of the same code in a warm container of the same image and limits. The two are
 * measured alternately in one run. The step's code writes no submission, so nothing is graded.
 *
 *   npx tsx bench/env-step.ts [iterations]
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { taskQueueName } from '../domain/queues';
import { createGateway } from '../gateway/server';
import { WarmDockerSandbox } from '../sandbox/warm';
import { materializePackage } from '../tests/helpers/fixture-packages';
import type { verifyPackage } from '../workflows';
import { startEmbedded } from './embedded';
import { median, quantile } from './stats';

const CODE = 'print("ok")';

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 40);
  const embedded = await startEmbedded(['control', 'llm', 'cpu']);
  const { anvil, client, config } = embedded;
  const controlQueue = taskQueueName(config.taskQueuePrefix, 'control');
  try {
    // A real task in the catalog: the iris fixture, verified.
    const source = await materializePackage('iris-species', join(config.paths.home, 'iris-species'));
    const report = await client.workflow.execute<typeof verifyPackage>('verifyPackage', {
      taskQueue: controlQueue,
      workflowId: `bench-verify-${Date.now()}`,
      args: [{ sourceDir: source }],
    });
    mkdirSync(config.paths.catalog, { recursive: true });
    cpSync(report.packageDir, join(config.paths.catalog, 'iris-species'), { recursive: true });

    const app = createGateway({ envs: anvil.envs });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // A budget of steps that outlasts every iteration.
    const request = JSON.stringify({ taskId: 'iris-species', budget: { steps: 1000 } });
    const headers = { 'content-type': 'application/json' };
    const created = await fetch(`${url}/v1/envs`, { method: 'POST', headers, body: request });
    const { envId } = (await created.json()) as { envId: string };
    const step = async () => {
      const res = await fetch(`${url}/v1/envs/${envId}/step`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'execute_code', params: { code: CODE } }),
      });
      const body = (await res.json()) as { observation: { run?: { stdout: string } } };
      if (body.observation.run?.stdout.trim() !== 'ok') throw new Error(`unexpected step: ${JSON.stringify(body)}`);
    };

    // The plain baseline: a warm container of the same image and limits, one docker exec per step.
    const docker = new Docker();
    const warm = new WarmDockerSandbox(docker, {
      image: config.sandbox.image,
      runsDir: join(config.paths.artifacts, 'bench-runs'),
    });
    const spec = {
      sessionKey: `bench-plain-${Date.now()}`,
      workspaceDir: join(config.paths.artifacts, 'bench-plain'),
      limits: { ...config.sandbox.limits, cpus: 1, memoryMb: 1024 },
    };
    const container = await warm.ensure(spec);
    const plain = async () => {
      const exec = await container.exec({
        Cmd: ['python3', '-c', CODE],
        User: '10001:10001',
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((done) => stream.on('end', done));
      if (!out.includes('ok')) throw new Error(`unexpected exec output: ${out}`);
    };

    const timed = async (fn: () => Promise<void>) => {
      const start = performance.now();
      await fn();
      return performance.now() - start;
    };
    for (let i = 0; i < 3; i++) await Promise.all([step(), plain()]); // warm-up
    const dojo: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < iterations; i++) {
      dojo.push(await timed(step));
      base.push(await timed(plain));
    }
    await warm.stop(spec.sessionKey);
    await fetch(`${url}/v1/envs/${envId}`, { method: 'DELETE' });
    await app.close();

    const row = (name: string, v: number[]) =>
      `${name.padEnd(44)} median ${median(v).toFixed(1).padStart(7)} ms   p95 ${quantile(v, 0.95).toFixed(1).padStart(7)} ms`;
    console.log(`trivial step (${JSON.stringify(CODE)}), ${iterations} iterations each, alternating`);
    console.log(row('Dojo step: HTTP → Update → activity → exec', dojo));
    console.log(row('plain docker exec in a warm container', base));
    console.log(
      `ratio (Dojo / plain): median ${(median(dojo) / median(base)).toFixed(2)}×, p95 ${(quantile(dojo, 0.95) / quantile(base, 0.95)).toFixed(2)}×`,
    );
  } finally {
    await embedded.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
