/*
 * The cluster test (`make test-cluster`): docker-compose.yml with docker-compose.offline.yml's images
 * (scripts/build-cluster-images.sh), PostgreSQL-backed Temporal, two cpu workers. Through the gateway
 * and the Temporal CLI it forges a dataset, runs two Dojo sessions and an 8-episode rollout while it kills
 * a cpu worker, restarts the Temporal server, kills the cpu worker that holds a session (its workspace
 * comes back from the store's snapshot: ANVIL_STORE_SNAPSHOTS=1) and restarts PostgreSQL; then it checks that everything
 * completed, each trajectory step is written exactly once, the catalog holds only whole tasks and the
 * Web UI answers. It prints a failure-injection table and exits 1 on any failed check.
 * Not a vitest file: it takes minutes and a whole compose stack, so `make test` does not run it.
 * CLUSTER_KEEP=1 leaves the stack up afterwards (then: docker-compose -p anvilcl ... down -v).
 */
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_FILES, PRIVATE_FILES, PUBLIC_FILES, packagePaths } from '../../package/layout';
import { parseManifest } from '../../package/manifest';

const ROOT = resolve(__dirname, '../..');
const PROJECT = 'anvilcl';
const run = promisify(execFile);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const log = (msg: string) => console.log(`[cluster ${elapsed()}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Node's fetch holds no reference on the event loop while it waits: without this, a request to a
// port Docker publishes for a container that is not listening yet would let the process end mid-test.
const keepAlive = setInterval(() => undefined, 60_000);
/** fetch with a deadline (a published port can accept and then never answer while its container starts) */
const get = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });

interface Fault {
  fault: string;
  during: string;
  observed: string;
  lost: string;
}
const faults: Fault[] = [];
const failures: string[] = [];
function check(ok: boolean, what: string): void {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

const data = resolve(ROOT, '.anvil/cluster-data'); // the artifact store, at the same path in every container
const envFile = join(mkdtempSync(join(tmpdir(), 'anvilcl-')), 'empty.env'); // no .env of the checkout
writeFileSync(envFile, '');
const ports = { temporal: 0, gateway: 0, ui: 0 };
const composeEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  COMPOSE_PROJECT_NAME: PROJECT,
  POSTGRES_PASSWORD: 'anvilcl-test-only',
  ANVIL_DATA: data,
  TEMPORAL_PORT: String(ports.temporal),
  ANVIL_GATEWAY_PORT: String(ports.gateway),
  TEMPORAL_UI_PORT: String(ports.ui),
  ANVIL_TEMPORAL_UI_URL: `http://127.0.0.1:${ports.ui}`,
  ANVIL_LADDER: '0',
  // two sandbox runs per cpu worker at most: the test machine has two shared cores
  ANVIL_CPU_CONCURRENCY: '2',
  // sessions snapshot their workspace to the store, so one whose host is killed resumes on another
  ANVIL_STORE_SNAPSHOTS: '1',
});
const composeArgs = ['-f', 'docker-compose.yml', '-f', 'docker-compose.offline.yml', '--env-file', envFile];

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker-compose', [...composeArgs, ...args], {
    cwd: ROOT,
    env: composeEnv(),
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** A long command whose output is kept; resolves with its exit code. */
function background(cmd: string, args: string[]): { done: Promise<number>; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const child = spawn(cmd, args, { cwd: ROOT, env: composeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number>((res) => child.on('close', (code) => res(code ?? 1)));
  return { done, out: () => out, err: () => err };
}

const temporalCli = (...args: string[]) =>
  run(join(ROOT, '.tools/bin/temporal'), [...args, '--address', `127.0.0.1:${ports.temporal}`], {
    maxBuffer: 64 << 20,
  }).then((r) => r.stdout);

async function waitFor<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s (${last || 'no answer'})`);
    await sleep(2000);
  }
}

let key = '';
async function gateway(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await get(`http://127.0.0.1:${ports.gateway}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Retries a gateway call (same Idempotency-Key) while the cluster behind it restarts. */
async function gatewayRetrying(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return waitFor(`${method} ${path}`, 240, () => gateway(method, path, body, headers));
}

async function containerOf(service: string): Promise<string[]> {
  return (await compose('ps', '-q', service)).split('\n').filter(Boolean);
}

/** Restarts a service's container and measures how long until `healthy` answers again. */
async function restart(service: string, during: string, healthy: () => Promise<unknown>): Promise<void> {
  const t0 = Date.now();
  log(`fault: restart ${service}`);
  await compose('restart', '-t', '5', service);
  await waitFor(`${service} back`, 300, async () => ((await healthy()) ? true : undefined));
  faults.push({
    fault: `restart ${service} container`,
    during,
    observed: `answered again after ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    lost: 'see checks',
  });
}

function trajectoryFiles(): string[] {
  const dir = join(data, 'artifacts', 'trajectories');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => join(dir, f))
    : [];
}

/** Each step of each trajectory once, numbered without gaps. */
function checkTrajectories(): number {
  let steps = 0;
  for (const file of trajectoryFiles()) {
    const numbers = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { step: number }).step);
    const unique = new Set(numbers);
    const first = Math.min(...numbers);
    const gapless = numbers.every((n, i) => n === first + i);
    if (unique.size !== numbers.length || !gapless) failures.push(`trajectory ${file}: steps ${numbers.join(',')}`);
    steps += numbers.length;
  }
  return steps;
}

/** Every visible folder of the catalog is a whole task: valid manifest, authored files, public and private data. */
function checkCatalog(): string[] {
  const catalog = join(data, 'catalog');
  const ids = existsSync(catalog) ? readdirSync(catalog).filter((n) => !n.startsWith('.')) : [];
  for (const id of ids) {
    const dir = join(catalog, id);
    const paths = packagePaths(dir);
    const manifest = existsSync(paths.manifest) ? parseManifest(readFileSync(paths.manifest, 'utf8')) : {};
    const files = [
      ...PACKAGE_FILES.map((f) => join(dir, f)),
      ...PUBLIC_FILES.map((f) => join(paths.public, f)),
      ...PRIVATE_FILES.map((f) => join(paths.private, f)),
      paths.leaderboard,
      paths.verification,
    ];
    const missing = files.filter((f) => !existsSync(f) || statSync(f).size === 0);
    if (!('manifest' in manifest) || missing.length) failures.push(`catalog task ${id} is not whole: ${missing}`);
  }
  return ids;
}

/** The session's running sandbox containers on the shared engine, with the worker hostname that owns each. */
async function sessionContainers(envId: string): Promise<{ id: string; host: string }[]> {
  const { stdout } = await run('docker', [
    'ps',
    '--filter',
    `label=anvil.session=${envId}`,
    '--format',
    '{{.ID}} {{.Label "anvil.owner"}}',
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, owner] = line.split(' ');
      return { id: id!, host: owner!.split(':')[0]! };
    });
}

/**
 * Kills the worker-cpu container that holds a Dojo session between two steps. A lost host takes its
 * sandbox containers and its disk with it; on this one machine the engine and the store's folder are
 * shared, so the test kills the session's sandbox container too and empties the session's workspace
 * folder: the marker step 1 wrote can then come back only from the store's snapshot.
 */
async function killSessionHost(taskId: string): Promise<void> {
  const env = await gateway('POST', '/v1/envs', { taskId });
  const envId = String(env.envId);
  const marker = `marker-${Math.random().toString(36).slice(2, 12)}`;
  const submit = `import pandas as pd\npd.read_csv('/data/sample_submission.csv').to_csv('submission.csv', index=False)\n`;
  const write = `open('/workspace/marker.txt', 'w').write('${marker}')\n${submit}`;
  const read = `print('read back: ' + open('/workspace/marker.txt').read())\n${submit}`;
  const stepKey = (i: number) => ({ 'idempotency-key': `cluster-${envId}-${i}` });
  await gatewayRetrying(
    'POST',
    `/v1/envs/${envId}/step`,
    { action: 'execute_code', params: { code: write } },
    stepKey(0),
  );

  const workers = await containerOf('worker-cpu');
  const [held] = await sessionContainers(envId);
  const holder = workers.find((id) => held && id.startsWith(held.host));
  if (!held || !holder) throw new Error(`no worker-cpu of this stack holds session ${envId} (${JSON.stringify(held)})`);
  log(`fault: docker kill worker-cpu ${holder.slice(0, 12)}, the host of session ${envId}, and its sandbox`);
  const killedAt = Date.now();
  await run('docker', ['kill', holder]);
  await run('docker', ['kill', held.id]);
  const workspace = join(data, 'artifacts', 'sessions', envId.replace(/[^A-Za-z0-9_.-]+/g, '_'), 'workspace');
  for (const f of readdirSync(workspace)) rmSync(join(workspace, f), { recursive: true, force: true });

  // The step waits for the lost host (2 minutes), then lands on the other one: longer than gatewayRetrying.
  const second = await waitFor('the step after the host kill', 600, () =>
    gateway('POST', `/v1/envs/${envId}/step`, { action: 'execute_code', params: { code: read } }, stepKey(1)),
  );
  const seconds = ((Date.now() - killedAt) / 1000).toFixed(0);
  const observation = second.observation as { run?: { stdout?: string } };
  const moved = await sessionContainers(envId);
  const stdout = observation.run?.stdout ?? '';
  check(
    stdout.includes(`read back: ${marker}`) && !JSON.stringify(observation).includes('started empty'),
    `session ${envId}: the step after its host was killed read ${marker} back on host ` +
      `${moved.map((c) => c.host).join(',')} (stdout: ${stdout.slice(0, 200)})`,
  );
  check(
    moved.length === 1 && moved[0]!.host !== held.host,
    `session ${envId}: one sandbox container, on another host than the killed ${held.host}`,
  );

  // The killed host comes back: it reaps what it left, and must not touch the session it lost.
  await run('docker', ['start', holder]);
  await waitFor('the restarted worker-cpu', 120, async () => {
    const { stdout: state } = await run('docker', ['inspect', '-f', '{{.State.Running}}', holder]);
    return state.trim() === 'true' ? true : undefined;
  });
  await sleep(15_000); // its start-up sweep of this host's leftover sandboxes
  const { stdout: old } = await run('docker', ['ps', '-a', '--filter', `id=${held.id}`, '--format', '{{.Status}}']);
  const after = await sessionContainers(envId);
  check(
    after.length === 1 && after[0]!.id === moved[0]?.id,
    `session ${envId}: the new host's sandbox still runs after the killed host restarted`,
  );
  await gatewayRetrying('DELETE', `/v1/envs/${envId}`);
  const file = trajectoryFiles().find((f) => f.includes(envId.replace(/[^A-Za-z0-9_.-]+/g, '_')));
  const lines = file ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  check(lines === 2, `session ${envId}: 2 steps answered, ${lines} trajectory lines`);
  faults.push({
    fault: 'docker kill the worker-cpu holding a Dojo session (and its sandbox; workspace folder emptied)',
    during: 'Dojo session with store.snapshots on (between steps)',
    observed:
      `next step answered ${seconds} s after the kill on the other host, workspace restored from the snapshot ` +
      `(marker read back); the killed host's sandbox: ${old.trim() || 'removed'}`,
    lost: 'see checks',
  });
}

async function main(): Promise<void> {
  ports.temporal = await freePort();
  ports.gateway = await freePort();
  ports.ui = await freePort();
  await compose('down', '-v', '--remove-orphans').catch(() => undefined);
  rmSync(data, { recursive: true, force: true }); // a previous run's catalog and trajectories
  mkdirSync(data, { recursive: true });
  log(`compose project ${PROJECT}, store ${data}, ports ${JSON.stringify(ports)}`);

  const t0 = Date.now();
  await compose('up', '-d', '--scale', 'worker-cpu=2');
  await waitFor('the gateway', 600, async () =>
    (await get(`http://127.0.0.1:${ports.gateway}/healthz`)).ok ? true : undefined,
  );
  log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  key = (
    await compose('run', '--rm', '--no-deps', '-T', 'cli', 'keys', 'create', '--admin', '--name', 'cluster-test')
  ).trim();
  key = key.split('\n').at(-1)!.trim();

  // 1. Forge through the CLI container; a cpu worker is killed while it runs.
  const forge = background('docker-compose', [
    ...composeArgs,
    'run',
    '--rm',
    '--no-deps',
    '-T',
    'cli',
    'forge',
    'example:penguins',
    '--max-tasks',
    '2',
    '--json',
  ]);
  // The victim: a cpu worker of this stack with a sandbox container of its own running (the engine is
  // shared, so other sandboxes are told apart by their owner label, `<worker hostname>:<pid>:<token>`).
  const workers = await containerOf('worker-cpu');
  const victim = await waitFor('a sandbox run of the forge', 900, async () => {
    const owners = (await run('docker', ['ps', '--filter', 'label=anvil', '--format', '{{.Label "anvil.owner"}}']))
      .stdout;
    const hosts = owners.split('\n').map((o) => o.split(':')[0]);
    return workers.find((id) => hosts.includes(id.slice(0, 12)));
  });
  log(`fault: docker kill worker-cpu ${victim.slice(0, 12)} while it runs a sandbox of the forge`);
  const killedAt = Date.now();
  await run('docker', ['kill', victim]);
  const forgeCode = await forge.done;
  const forgeJson = forge
    .out()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  if (!forgeJson) throw new Error(`forge printed no result (exit ${forgeCode}):\n${forge.err().slice(-2000)}`);
  const result = JSON.parse(forgeJson) as { tasks?: { id: string; status: string }[] };
  const verified = (result.tasks ?? []).filter((t) => t.status === 'verified').map((t) => t.id);
  check(forgeCode === 0 && verified.length > 0, `forge completed with verified tasks ${verified.join(', ')}`);
  faults.push({
    fault: 'docker kill one of two worker-cpu containers',
    during: 'forge (sandbox runs in flight)',
    observed: `forge finished ${((Date.now() - killedAt) / 1000).toFixed(0)} s later, exit ${forgeCode}`,
    lost: verified.length ? 'nothing (tasks verified)' : 'the forge',
  });
  await run('docker', ['start', victim]);
  const taskId = verified[0] ?? 'none';

  // 2. A Dojo session through the gateway; the Temporal server restarts between its steps.
  const env = await gateway('POST', '/v1/envs', { taskId });
  const envId = String(env.envId);
  const submit = `import pandas as pd\npd.read_csv('/data/sample_submission.csv').to_csv('submission.csv', index=False)\n`;
  const steps: Record<string, unknown>[] = [
    { action: 'request_info', params: { kind: 'overview' } },
    { action: 'execute_code', params: { code: submit } },
    { action: 'get_history', params: {} },
    { action: 'execute_code', params: { code: submit } },
  ];
  let answered = 0;
  for (const [i, action] of steps.entries()) {
    if (i === 2) await restart('temporal', 'Dojo session (between steps)', () => gateway('GET', `/v1/envs/${envId}`));
    await gatewayRetrying('POST', `/v1/envs/${envId}/step`, action, { 'idempotency-key': `cluster-${envId}-${i}` });
    answered++;
  }
  await gatewayRetrying('DELETE', `/v1/envs/${envId}`);
  const file = trajectoryFiles().find((f) => f.includes(envId.replace(/[^A-Za-z0-9_.-]+/g, '_')));
  const lines = file ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  check(lines === answered, `Dojo session ${envId}: ${answered} steps answered, ${lines} trajectory lines`);

  // 3. A Dojo session whose host is killed between steps (store.snapshots on).
  await killSessionHost(taskId);

  // 4. An 8-episode rollout started with the Temporal CLI; PostgreSQL restarts while it runs.
  const rolloutId = `cluster-rollout-${Date.now()}`;
  const input = { tasks: [taskId], policy: 'heuristic', seed: 7, samplesPerTask: 8, maxSteps: 4, concurrency: 4 };
  await temporalCli(
    'workflow',
    'start',
    '--type',
    'rolloutBatch',
    '--task-queue',
    'anvil-control',
    '--workflow-id',
    rolloutId,
    '--input',
    JSON.stringify(input),
  );
  await waitFor('the first episode steps', 600, async () => (trajectoryFiles().length > 1 ? true : undefined));
  await restart('postgresql', 'rollout (episodes stepping)', () =>
    temporalCli('workflow', 'describe', '--workflow-id', rolloutId),
  );
  // Its result through the gateway (an admin key sees every rollout): one outcome per sample.
  const status = await waitFor('the rollout result', 1200, async () => {
    const st = await gateway('GET', `/v1/rollouts/${rolloutId}`);
    if (st.status === 'running') return undefined;
    return st as { status: string; error?: string; result?: { episodes: { sample: number; status: string }[] } };
  });
  const episodes = status.result?.episodes ?? [];
  const samples = new Set(episodes.map((e) => e.sample));
  check(
    status.status === 'completed' && samples.size === 8 && episodes.every((e) => e.status === 'completed'),
    `rollout ${rolloutId}: ${status.status}${status.error ? ` (${status.error})` : ''}, ${episodes.length} episodes ` +
      `(${episodes.map((e) => e.status).join(',')})`,
  );

  // 5. What the store holds, and the Web UI.
  const steps_ = checkTrajectories();
  check(!failures.some((f) => f.startsWith('trajectory')), `${steps_} trajectory steps, each written once`);
  const tasks = checkCatalog();
  check(!failures.some((f) => f.startsWith('catalog')), `catalog holds whole tasks only: ${tasks.join(', ')}`);
  const ui = await get(`http://127.0.0.1:${ports.ui}/`);
  const api = await get(`http://127.0.0.1:${ports.ui}/api/v1/namespaces/default/workflows/${rolloutId}`);
  check(
    ui.ok && (await ui.text()).includes('<html') && api.ok,
    `Web UI answers (page ${ui.status}, API ${api.status})`,
  );
  for (const f of faults) f.lost = failures.length ? 'see FAIL lines' : 'nothing';
}

main()
  .catch((err: Error) => failures.push(`aborted: ${err.message}`))
  .finally(async () => {
    console.log('\n| fault | during | observed | lost |\n| --- | --- | --- | --- |');
    for (const f of faults) console.log(`| ${f.fault} | ${f.during} | ${f.observed} | ${f.lost} |`);
    log(`wall time ${elapsed()}; ${failures.length ? `FAILED:\n  ${failures.join('\n  ')}` : 'all checks passed'}`);
    if (process.env.CLUSTER_KEEP !== '1') {
      await compose('down', '-v', '--remove-orphans').catch((e: Error) => log(`down failed: ${e.message}`));
    }
    clearInterval(keepAlive);
    process.exit(failures.length ? 1 : 0);
  });
