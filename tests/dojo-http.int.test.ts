import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvState, Observation } from '../domain/env';
import { exampleDatasetPath } from '../examples/forge-datasets';
import type { forgeDataset } from '../workflows';
import { envService, http, startGateway, step, trajectorySteps } from './helpers/dojo';
import { createTestEnv, type TestEnv } from './helpers/env';

/** HumanRank computed here from the CSV text, independently of domain/rewards.ts. */
function humanRankFromCsv(csv: string, score: number, higherIsBetter: boolean): number {
  const [header, ...lines] = csv.trim().split('\n');
  const col = header!.split(',').indexOf('score');
  const scores = lines.map((l) => Number(l.split(',')[col]));
  const better = scores.filter((s) => (higherIsBetter ? s > score : s < score)).length;
  return 1 - better / scores.length;
}

describe('Dojo over HTTP, on a forged task', () => {
  let t: TestEnv;
  let gateway: { app: FastifyInstance; url: string };
  let task: {
    id: string;
    path: string;
    manifest: { target: string; idColumn: string; metric: { higherIsBetter: boolean } };
  };

  beforeAll(async () => {
    t = await createTestEnv();
    for (const kind of ['control', 'llm', 'cpu'] as const) await t.startWorker(kind);
    const forged = await t.client.workflow.execute<typeof forgeDataset>('forgeDataset', {
      taskQueue: t.controlQueue,
      workflowId: `forge-iris-${Date.now()}`,
      args: [
        {
          dataset: await exampleDatasetPath('iris', join(t.config.paths.home, 'examples')),
          name: 'iris',
          catalogDir: t.config.paths.catalog,
          maxTasks: 1,
          repairRounds: 1,
          concurrency: 1,
        },
      ],
    });
    const verified = forged.tasks.find((x) => x.status === 'verified');
    if (!verified?.path) throw new Error(`the forge verified no iris task: ${JSON.stringify(forged.tasks)}`);
    task = {
      id: verified.id,
      path: verified.path,
      manifest: JSON.parse(readFileSync(join(verified.path, 'task.json'), 'utf8')),
    };
    gateway = await startGateway(envService(t));
  }, 600_000);
  afterAll(async () => {
    await gateway?.app.close();
    await t?.close();
  });

  const open = async (body: Record<string, unknown> = {}) => {
    const res = await http<{ envId: string; observation: Observation }>(gateway.url, 'POST', '/v1/envs', {
      taskId: task.id,
      ...body,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  it('request_info → validate_code → execute_code earns the HumanRank of the score; a malformed submission is an error observation and the session goes on', async () => {
    expect(
      (await http<{ tasks: { id: string }[] }>(gateway.url, 'GET', '/v1/tasks')).body.tasks.map((x) => x.id),
    ).toContain(task.id);
    const { envId, observation: opening } = await open({ rewardMode: 'position' });
    expect(opening).toMatchObject({ step: 0, status: 'ok', done: false, info: { target: task.manifest.target } });

    const data = await step(gateway.url, envId, 'request_info', { kind: 'data' });
    const columns = (data.observation.info!.columns as { name: string; kind: string }[]).filter(
      (c) => c.name !== task.manifest.idColumn && c.name !== task.manifest.target,
    );
    const feature = columns.find((c) => c.kind === 'numeric')!.name;
    expect(data.reward).toBe(0);

    // A real, deliberately weak solution (a one-split tree on one feature), and the baseline.
    const weak = `import pandas as pd
from sklearn.tree import DecisionTreeClassifier
train, test = pd.read_csv("/data/train.csv"), pd.read_csv("/data/test.csv")
model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(train[[${JSON.stringify(feature)}]], train[${JSON.stringify(task.manifest.target)}])
pd.DataFrame({${JSON.stringify(task.manifest.idColumn)}: test[${JSON.stringify(task.manifest.idColumn)}], ${JSON.stringify(task.manifest.target)}: model.predict(test[[${JSON.stringify(feature)}]])}).to_csv("/workspace/submission.csv", index=False)
print("wrote", len(test), "rows")`;
    const checked = await step(gateway.url, envId, 'validate_code', { code: weak });
    expect(checked.observation, JSON.stringify(checked.observation)).toMatchObject({
      status: 'ok',
      submission: { valid: true },
    });
    expect(checked.observation.run!.stdout).toMatch(/wrote \d+ rows/);
    expect(checked.observation.score).toBeUndefined();
    expect(checked.reward).toBe(0);

    const leaderboard = readFileSync(join(task.path, 'leaderboard.csv'), 'utf8');
    const ranks: number[] = [];
    for (const code of [weak, readFileSync(join(task.path, 'solutions', 'baseline.py'), 'utf8')]) {
      const executed = await step(gateway.url, envId, 'execute_code', { code });
      expect(executed.observation.status, JSON.stringify(executed.observation)).toBe('ok');
      const raw = executed.observation.score!.raw;
      const expected = humanRankFromCsv(leaderboard, raw, task.manifest.metric.higherIsBetter);
      expect(executed.reward).toBeCloseTo(expected, 12);
      ranks.push(expected);
    }
    expect(Math.min(...ranks)).toBeLessThan(1); // the weak one ranks below someone: the check is not vacuous

    const malformed = await step(gateway.url, envId, 'execute_code', {
      code: 'open("/workspace/submission.csv", "w").write("wrong,columns\\n1,2\\n")',
    });
    expect(malformed).toMatchObject({
      reward: 0,
      done: false,
      observation: { status: 'error', error: { type: 'InvalidSubmission' } },
    });
    expect(malformed.observation.error!.likelyCauses.length).toBeGreaterThan(0);
    const crashing = await step(gateway.url, envId, 'execute_code', {
      code: 'import pandas as pd\npd.read_csv("/data/train.csv")["no_such_column"]',
    });
    expect(crashing.observation).toMatchObject({ status: 'error', error: { type: 'KeyError' } });
    const after = await step(gateway.url, envId, 'get_history');
    expect(after.observation.history!.map((h) => h.action)).toEqual([
      'request_info',
      'validate_code',
      'execute_code',
      'execute_code',
      'execute_code',
      'execute_code',
    ]);
    expect(after.observation.best!.position).toBe(Math.max(...ranks));

    const bad = await http(gateway.url, 'POST', `/v1/envs/${envId}/step`, { action: 'execute_code', params: {} });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toMatch(/code/);

    const state = (await http<EnvState>(gateway.url, 'GET', `/v1/envs/${envId}`)).body;
    expect(state).toMatchObject({ envId, taskId: task.id, stepsUsed: 7, done: false });
    const closed = await http<EnvState>(gateway.url, 'DELETE', `/v1/envs/${envId}`);
    expect(closed.body).toMatchObject({ done: true, doneReason: 'closed', stepsUsed: 7 });
    expect((await http(gateway.url, 'POST', `/v1/envs/${envId}/step`, { action: 'get_history' })).status).toBe(409);

    const steps = trajectorySteps(state.trajectory);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(steps[2]!.reward).toBeCloseTo(ranks[0]!, 12);
  });

  it('hostile code finds no copy of the answers, reaches no network, and a runaway step is stopped with the session still usable', async () => {
    const { envId } = await open({ budget: { runTimeoutS: 60, memoryMb: 256 } });
    const answers = readFileSync(join(task.path, 'private', 'answers.csv'));
    // Every readable regular file of the sandbox is hashed (the answers' bytes could sit under any name).
    const walk = `import hashlib, json, os
hashes, seen = set(), 0
for root, dirs, files in os.walk("/", onerror=lambda e: None):
    if root in ("/proc", "/sys", "/dev"):
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(root, name)
        try:
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            hashes.add(digest.hexdigest())
            seen += 1
        except OSError:
            pass
json.dump(sorted(hashes), open("/workspace/hashes.json", "w"))
print(seen)`;
    const walked = await step(gateway.url, envId, 'validate_code', { code: walk });
    expect(walked.observation.status, JSON.stringify(walked.observation)).toBe('ok');
    expect(Number(walked.observation.run!.stdout.trim())).toBeGreaterThan(5000); // the whole image was walked
    const hashes = JSON.parse(
      readFileSync(join(t.config.paths.artifacts, 'sessions', envId, 'workspace', 'hashes.json'), 'utf8'),
    ) as string[];
    expect(hashes.length).toBeGreaterThan(1000);
    expect(hashes).not.toContain(createHash('sha256').update(answers).digest('hex'));

    const network = `import socket
results = []
for host, port in (("1.1.1.1", 53), ("172.17.0.1", 2375), ("pypi.org", 443)):
    try:
        socket.create_connection((host, port), timeout=3).close()
        results.append("reached " + host)
    except OSError as e:
        results.append("blocked")
print(",".join(results))`;
    const net = await step(gateway.url, envId, 'validate_code', { code: network });
    expect(net.observation.run!.stdout.trim()).toBe('blocked,blocked,blocked');

    // The symlink trick: a submission that points at the answers' place on the host is refused.
    const link = await step(gateway.url, envId, 'execute_code', {
      code: `import os\nos.symlink(${JSON.stringify(join(task.path, 'private', 'answers.csv'))}, "/workspace/submission.csv")`,
    });
    expect(link.observation).toMatchObject({ status: 'error', error: { type: 'InvalidSubmission' } });
    expect(link.observation.error!.message).toMatch(/symbolic link/);

    const hog = await step(gateway.url, envId, 'validate_code', { code: 'x = b"x" * (1024 ** 3)' });
    // The warm interpreter caps a step's address space (RLIMIT_AS): a MemoryError; a plain exec: an OOM kill.
    expect(hog.observation).toMatchObject({ status: 'error' });
    expect(hog.observation.error!.type).toMatch(/^(MemoryError|OutOfMemory)$/);
    const state = (await http<EnvState>(gateway.url, 'GET', `/v1/envs/${envId}`)).body;
    expect(state.done).toBe(false);

    const short = await open({ budget: { runTimeoutS: 3 } });
    const started = Date.now();
    const runaway = await step(gateway.url, short.envId, 'validate_code', {
      code: 'import subprocess\nsubprocess.Popen(["sleep", "600"])\nwhile True:\n    pass',
    });
    expect(runaway.observation).toMatchObject({ status: 'error', error: { type: 'Timeout' }, done: false });
    expect(Date.now() - started).toBeLessThan(60_000);
    const alive = await step(gateway.url, short.envId, 'validate_code', {
      code: 'import subprocess\nprint(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)',
    });
    expect(alive.observation.status, JSON.stringify(alive.observation)).toBe('ok');
    expect(alive.observation.run!.stdout).not.toMatch(/sleep 600/); // nothing of the killed step lives on
    await http(gateway.url, 'DELETE', `/v1/envs/${short.envId}`);
    await http(gateway.url, 'DELETE', `/v1/envs/${envId}`);
  });

  it('reset empties /workspace but keeps the budget; an unknown task is a 404', async () => {
    const { envId } = await open();
    await step(gateway.url, envId, 'validate_code', { code: 'open("/workspace/notes.txt", "w").write("hi")' });
    const reset = await step(gateway.url, envId, 'reset');
    expect(reset.observation).toMatchObject({ status: 'ok', budget: { stepsUsed: 2 } });
    const look = await step(gateway.url, envId, 'validate_code', {
      code: 'import os\nprint(sorted(os.listdir("/workspace")))',
    });
    expect(look.observation.run!.stdout.trim()).toBe('[]');
    await http(gateway.url, 'DELETE', `/v1/envs/${envId}`);
    expect(existsSync(join(t.config.paths.artifacts, 'trajectories', `${envId}.jsonl`))).toBe(true);

    // A session nobody acts in ends by itself.
    const idle = await open({ budget: { idleTimeoutS: 2 } });
    let state: EnvState | undefined;
    for (let i = 0; i < 40 && !state?.done; i++) {
      await new Promise((r) => setTimeout(r, 500));
      state = (await http<EnvState>(gateway.url, 'GET', `/v1/envs/${idle.envId}`)).body;
    }
    expect(state).toMatchObject({ done: true, doneReason: 'idle', stepsUsed: 0 });

    const unknown = await http(gateway.url, 'POST', '/v1/envs', { taskId: 'no-such-task' });
    expect(unknown.status).toBe(404);
    expect(String(unknown.body.message)).toContain(task.id);
  });
});
