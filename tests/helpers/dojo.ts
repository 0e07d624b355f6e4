import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { EnvService, RolloutService } from '../../client';
import { openCatalogs } from '../../package/open-catalog';
import { createTemporalEnvService } from '../../client/temporal-envs';
import type { Action, StepResult, TrajectoryEntry } from '../../domain/env';
import { createGateway } from '../../gateway/server';
import type { verifyPackage } from '../../workflows';
import type { KeyLimits } from '../../domain/api-keys';
import { materializePackage } from './fixture-packages';
import { testKey, testKeyRing } from './keys';
import type { TestEnv } from './env';

/** The Dojo over this test file's Temporal queues, reading tasks from its catalog (the store's, in S3 mode). */
export function envService(t: TestEnv, options: { stepsPerRun?: number } = {}): EnvService {
  const catalogDir = t.config.paths.catalog;
  return createTemporalEnvService({
    client: t.client,
    controlQueue: t.controlQueue,
    catalogDir,
    listTasks: async () => (await openCatalogs(t.config))(catalogDir).summaries(),
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

/** The token `http` sends to each gateway `startGateway` started, unless a call names another. */
const defaultTokens = new Map<string, string>();

/**
 * The gateway on a free local port, with API keys: `keys` (default: one user key). `http` calls
 * to its url send the first key's token unless they name another.
 */
export async function startGateway(
  envs: EnvService,
  rollouts?: RolloutService,
  { keys = [testKey('test')], limits }: { keys?: ReturnType<typeof testKey>[]; limits?: KeyLimits } = {},
): Promise<{ app: FastifyInstance; url: string; token: string }> {
  const app = createGateway({ envs, rollouts, auth: { keys: testKeyRing(keys, limits) } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  defaultTokens.set(url, keys[0]!.token);
  return { app, url, token: keys[0]!.token };
}

/** An HTTP call to the gateway: status and parsed body. `token`: null sends no Authorization header. */
export async function http<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = defaultTokens.get(url) ?? null,
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
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
