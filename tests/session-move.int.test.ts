import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envService, trajectorySteps } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';
import { publishPreparedIris } from './helpers/prepared-iris';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

/**
 * Two sandbox hosts (two `anvil worker --queue cpu` processes with their own host ids) and the
 * store's session snapshots on: the session's host is killed, and the next step runs on the other
 * host in the workspace the last step left. Costs the 2-minute host-gone wait of env-session.ts.
 */
describe('a Dojo session moved to another host', () => {
  let t: TestEnv;
  const hosts = new Map<string, WorkerProcess>();

  beforeAll(async () => {
    t = await createTestEnv({ ANVIL_STORE_SNAPSHOTS: '1' });
    await t.startWorker('control');
    publishPreparedIris(t.config.paths.catalog);
    for (const id of ['host-a', 'host-b'])
      hosts.set(id, await startWorkerProcess('cpu', { ...t.env, ANVIL_HOST_ID: id }));
  }, 120_000);
  afterAll(async () => {
    for (const w of hosts.values()) w.child.kill('SIGKILL');
    await t?.close();
  });

  it('gets its workspace from the last snapshot on the new host', async () => {
    const envs = envService(t);
    const { envId } = await envs.create({ taskId: 'iris-species' });
    const first = await envs.step(envId, {
      action: 'validate_code',
      params: { code: 'open("/workspace/notes.txt", "w").write("features chosen at step 1")\nprint("saved")' },
    });
    expect(first.observation.run!.stdout).toContain('saved');

    // The host that ran the step (its worker's identity is `<pid>@<hostname>`) is lost.
    const history = await t.client.workflow.getHandle(envId).fetchHistory();
    const ranOn = history.events!.flatMap((e) => e.activityTaskStartedEventAttributes?.identity ?? []).at(-1)!;
    const [lostId, lost] = [...hosts].find(([, w]) => ranOn.startsWith(`${w.child.pid}@`))!;
    lost.child.kill('SIGKILL');
    await lost.exited;

    const second = await envs.step(envId, {
      action: 'validate_code',
      params: { code: 'print(open("/workspace/notes.txt").read())' },
    });
    expect(second.observation.run?.stdout, JSON.stringify(second.observation)).toContain('features chosen at step 1');
    expect(JSON.stringify(second.observation)).not.toContain('started empty');

    const scope = join(t.config.paths.home, 'sessions', envId.replace(/[^A-Za-z0-9_.-]/g, '_'));
    expect(readFileSync(join(scope, 'epoch'), 'utf8')).toBe('2');
    const state = await envs.close(envId);
    expect(trajectorySteps(state.trajectory).map((s) => s.step)).toEqual([1, 2]);
    expect(lostId).toMatch(/^host-[ab]$/);
  }, 400_000);
});
