import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { taskSummaries } from '../../package/catalog';
import type { EnvService, RolloutService } from '../../client';
import { createTemporalEnvService } from '../../client/temporal-envs';
import type { Action, StepResult, TrajectoryEntry } from '../../domain/env';
import { createGateway } from '../../gateway/server';
import type { verifyPackage } from '../../workflows';
import { materializePackage } from './fixture-packages';
import type { TestEnv } from './env';

/** The Dojo over this test file's Temporal queues, reading tasks from its catalog. */
export function envService(t: TestEnv, options: { stepsPerRun?: number } = {}): EnvService {
  const catalogDir = t.config.paths.catalog;
  return createTemporalEnvService({
    client: t.client,
    controlQueue: t.controlQueue,
    catalogDir,
    listTasks: () => taskSummaries(catalogDir),
    defaults: { budget: { steps: 30, wallTimeS: 3600, idleTimeoutS: 600 }, rewardMode: 'position' },
    ...options,
  });
}

/** A good fixture package, verified by the real verifier and published into the catalog; its path. */
export async function publishFixture(t: TestEnv, name: string): Promise<string> {
  const source = await materializePackage(name, join(t.config.paths.home, 'fixtures', name));
  const report = await t.client.workflow.execute<typeof verifyPackage>('verifyPackage', {
    taskQueue: t.controlQueue,
    workflowId: `verify-${name}-${Date.now()}`,
    args: [{ sourceDir: source }],
  });
  if (report.status !== 'verified')
    throw new Error(`fixture ${name} did not verify: ${JSON.stringify(report.checks.filter((c) => !c.passed))}`);
  const published = join(t.config.paths.catalog, name);
  cpSync(report.packageDir, published, { recursive: true });
  return published;
}

/** The gateway on a free local port. */
export async function startGateway(
  envs: EnvService,
  rollouts?: RolloutService,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = createGateway({ envs, rollouts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** An HTTP call to the gateway: status and parsed body. */
export async function http<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export const step = async (
  url: string,
  envId: string,
  action: Action['action'],
  params: Record<string, unknown> = {},
) => {
  const res = await http<StepResult>(url, 'POST', `/v1/envs/${envId}/step`, { action, params });
  if (res.status !== 200) throw new Error(`step ${action} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
};

/** The steps of a trajectory file, in file order. */
export function trajectorySteps(file: string): TrajectoryEntry[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TrajectoryEntry);
}
