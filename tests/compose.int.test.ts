import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_KEYS } from '../config/schema';
import { QUEUE_KINDS } from '../domain/queues';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

// Checks docker-compose.yml as Compose itself reads it (`docker-compose config`: Debian's
// docker-compose 1.29, installed by `make setup` through scripts/ensure-compose.sh), and the
// README's deployment section against it. Nothing is started: the images cannot be pulled on an
// offline host, and the Anvil image (./Dockerfile, FROM node:20-bookworm-slim) cannot be built
// there either, so neither `up` nor `build` is part of this test.

const ROOT = join(__dirname, '..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | null>;
  volumes?: (string | { source?: string; target: string })[];
  ports?: (string | { published?: number | string; target: number | string })[];
  depends_on?: Record<string, { condition: string }> | string[];
  profiles?: string[];
  healthcheck?: { test: string | string[] };
  deploy?: {
    resources?: {
      reservations?: { devices?: { driver?: string; count?: string | number; capabilities?: string[] }[] };
    };
  };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  try {
    return execFileSync(cmd, args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 16 << 20,
      ...opts,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (e.code === 'ENOENT')
      throw new Error(`${cmd} is not installed: run scripts/ensure-compose.sh (part of make setup)`);
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}):\n${e.stderr ?? e.message}`);
  }
}

/** Compose's own reading of the file, as JSON, with only the given variables set (no shell, no .env). */
function composeConfig(
  vars: Record<string, string> = { POSTGRES_PASSWORD: 'from-the-env-file' },
  files = ['docker-compose.yml'],
): ComposeFile {
  const envFile = join(mkdtempSync(join(tmpdir(), 'anvil-compose-')), 'empty.env');
  writeFileSync(envFile, '');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...vars };
  const version = run('docker-compose', ['version', '--short'], { env }).trim();
  const args = [...files.flatMap((f) => ['-f', f]), '--env-file', envFile, 'config'];
  if (Number(version.replace(/^v/, '').split('.')[0]) >= 2)
    return JSON.parse(run('docker-compose', [...args, '--format', 'json'], { env })) as ComposeFile;
  // v1 prints YAML only; it is a Python program, and PyYAML (its dependency) turns that into JSON.
  const yaml = run('docker-compose', args, { env });
  const script = readFileSync(run('sh', ['-c', 'command -v docker-compose']).trim(), 'utf8').split('\n')[0] ?? '';
  const interpreter = /^#!\s*(.*python\S*)/.exec(script)?.[1]?.trim().split(/\s+/) ?? ['python3'];
  const [python, ...pyArgs] = interpreter;
  return JSON.parse(
    run(python!, [...pyArgs, '-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
      env,
      input: yaml,
    }),
  ) as ComposeFile;
}

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : v.split(/\s+/);
const env = (s: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
const deps = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v.condition]));

/** `host:container` pairs of a service's bind mounts and volumes. */
function mounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

function ports(s: Service): { published: number; target: number }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { published: Number(p.published), target: Number(p.target) };
    const parts = p.split(':');
    return { published: Number(parts.at(-2)), target: Number(parts.at(-1)?.split('/')[0]) };
  });
}

/** The services running the given image repository (e.g. `postgres`). */
function byImage(file: ComposeFile, repo: RegExp): [string, Service][] {
  return Object.entries(file.services).filter(([, s]) => repo.test((s.image ?? '').split(':')[0] ?? ''));
}

/** The services that run the Anvil image: built from this repository's Dockerfile. */
function anvilServices(file: ComposeFile): [string, Service][] {
  return Object.entries(file.services).filter(([, s]) => s.build !== undefined);
}

function workerOf(file: ComposeFile, kind: string): [string, Service][] {
  return Object.entries(file.services).filter(([, s]) => asList(s.command).join(' ') === `worker --queue ${kind}`);
}

function readmeSection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.search(/^## Deployment\b/m);
  expect(start, 'README.md has a "## Deployment" section').toBeGreaterThanOrEqual(0);
  const rest = readme.slice(start);
  const end = rest.slice(3).search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end + 3);
}

let cached: ComposeFile | undefined;
/** `docker-compose config` of the file as it is, run once (a failure fails every test that needs it). */
const config = (): ComposeFile => (cached ??= composeConfig());

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose config', () => {
    expect(Object.keys(config().services).length).toBeGreaterThan(0);
  });

  it('runs Temporal on PostgreSQL (schema set up by admin-tools) with its UI', () => {
    const file = config();
    const services = file.services;
    const [[pgName, pg] = []] = byImage(file, /^postgres$/);
    expect(pgName, 'a postgres service').toBeDefined();
    expect(pg?.healthcheck, 'postgres has a health check').toBeDefined();

    const temporalServers = byImage(file, /^temporalio\/server$/);
    expect(temporalServers).toHaveLength(1);
    const [[temporalName, temporal] = []] = temporalServers;
    const tEnv = env(temporal!);
    expect(tEnv.DB).toBe('postgres12');
    expect(tEnv.POSTGRES_SEEDS).toBe(pgName);
    expect(tEnv.POSTGRES_PWD).toBe(env(pg!).POSTGRES_PASSWORD);
    expect(tEnv.POSTGRES_USER).toBe(env(pg!).POSTGRES_USER);
    expect(temporal!.healthcheck).toBeDefined();
    expect(ports(temporal!).map((p) => p.target)).toContain(7233);
    // the dynamic config file it names is mounted from deploy/
    const dynamic = mounts(temporal!).find((m) => m.target === '/etc/temporal/config/dynamicconfig');
    expect(dynamic?.source).toBe(join(ROOT, 'deploy', 'temporal', 'dynamicconfig'));
    expect(readFileSync(join(dynamic!.source, tEnv.DYNAMIC_CONFIG_FILE_PATH!.split('/').at(-1)!), 'utf8')).toMatch(
      /constraints/,
    );

    // the schema is set up by admin-tools before the server starts, as in Temporal's compose files
    const schema = Object.entries(deps(temporal!)).filter(([, cond]) => cond === 'service_completed_successfully');
    expect(schema).toHaveLength(1);
    const setup = services[schema[0]![0]]!;
    expect(setup.image).toMatch(/^temporalio\/admin-tools:/);
    expect(deps(setup)[pgName!]).toBe('service_healthy');
    const setupScript = asList(setup.command).join(' ');
    const scriptsDir = mounts(setup).find((m) => setupScript.startsWith(m.target));
    expect(scriptsDir, 'the set-up script is mounted').toBeDefined();
    const script = readFileSync(join(scriptsDir!.source, setupScript.slice(scriptsDir!.target.length)), 'utf8');
    expect(script).toMatch(/temporal-sql-tool --plugin postgres12/);
    expect(script).toMatch(/setup-schema/);
    expect(script).toMatch(/update-schema/);

    const [[, ui] = []] = byImage(file, /^temporalio\/ui$/);
    expect(env(ui!).TEMPORAL_ADDRESS).toBe(`${temporalName}:7233`);
    expect(deps(ui!)[temporalName!]).toBe('service_healthy');
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'gateway']));
  });

  it('registers the namespace and every Anvil search attribute before any Anvil service starts', () => {
    const file = config();
    const services = file.services;
    const [[temporalName] = []] = byImage(file, /^temporalio\/server$/);
    const anvil = anvilServices(file);
    expect(anvil.length).toBeGreaterThan(QUEUE_KINDS.length);
    for (const [name, s] of anvil) {
      const waits = Object.entries(deps(s))
        .filter(([, c]) => c === 'service_completed_successfully')
        .map(([d]) => d);
      expect(waits, `${name} waits for the namespace set-up`).toHaveLength(1);
      const ns = services[waits[0]!]!;
      expect(ns.image).toMatch(/^temporalio\/admin-tools:/);
      expect(deps(ns)[temporalName!]).toBe('service_healthy');
      expect(env(ns).TEMPORAL_ADDRESS).toBe(`${temporalName}:7233`);
      expect(env(ns).DEFAULT_NAMESPACE).toBe(env(s).TEMPORAL_NAMESPACE);
      expect(env(ns).ANVIL_SEARCH_ATTRIBUTES!.split(',').sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
    }
  });

  it('runs one worker per queue kind and the gateway, from the project image, against the temporal service', () => {
    const file = config();
    const services = file.services;
    const [[temporalName] = []] = byImage(file, /^temporalio\/server$/);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim\b/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/anvil\.js"\]$/m);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toContain('node_modules');
    // the sandbox recipe names the sandbox image (sandbox/image.ts), the harness runs in it
    expect(ignored.filter((l) => /^\/?sandbox\b/.test(l))).toEqual([]);

    for (const kind of QUEUE_KINDS) {
      const workers = workerOf(file, kind);
      expect(
        workers.map(([n]) => n),
        `one service runs \`worker --queue ${kind}\``,
      ).toEqual([`worker-${kind}`]);
    }
    const [[, gateway] = []] = Object.entries(services).filter(
      ([, s]) => asList(s.command).slice(0, 2).join(' ') === 'env serve',
    );
    expect(gateway).toBeDefined();
    const cmd = asList(gateway!.command);
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0');
    expect(ports(gateway!).map((p) => p.target)).toContain(Number(cmd[cmd.indexOf('--port') + 1]));

    for (const [name, s] of [
      ...QUEUE_KINDS.map((k) => workerOf(file, k)[0]!),
      ['gateway', gateway!] as [string, Service],
    ]) {
      expect(s.build?.context, `${name} is built from the repository`).toBe(ROOT);
      expect(s.build?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
      expect(s.entrypoint, `${name} keeps the image's entrypoint (anvil)`).toBeUndefined();
      expect(env(s).TEMPORAL_ADDRESS, name).toBe(`${temporalName}:7233`);
    }
  });

  it('reserves the NVIDIA GPUs for the gpu worker only, and gives sandbox workers the engine and the store at the same path', () => {
    const file = config();
    const services = file.services;
    for (const kind of QUEUE_KINDS) {
      const [name, s] = workerOf(file, kind)[0]!;
      const devices = s.deploy?.resources?.reservations?.devices ?? [];
      if (kind === 'gpu') {
        expect(devices).toEqual([
          expect.objectContaining({ driver: 'nvidia', count: 'all', capabilities: expect.arrayContaining(['gpu']) }),
        ]);
      } else {
        expect(devices, name).toEqual([]);
      }
      const home = env(s).ANVIL_HOME;
      expect(home, `${name} sets ANVIL_HOME`).toMatch(/^\//);
      expect(mounts(s), `${name} mounts the store at the same path`).toContainEqual({ source: home, target: home });
      const socket = mounts(s).some((m) => m.source === '/var/run/docker.sock' && m.target === '/var/run/docker.sock');
      expect(
        socket,
        `${name} ${kind === 'cpu' || kind === 'gpu' ? 'mounts' : 'does not mount'} the Docker socket`,
      ).toBe(kind === 'cpu' || kind === 'gpu');
    }
    // the gateway reads the same catalog and trajectories
    const gateway = services.gateway!;
    expect(mounts(gateway)).toContainEqual({ source: env(gateway).ANVIL_HOME, target: env(gateway).ANVIL_HOME });
  });

  it('passes only real Anvil settings, each to the workers that use them', () => {
    const file = config();
    const services = file.services;
    const llmVars = Object.entries(ENV_KEYS)
      .filter(([, key]) => key.startsWith('llm.'))
      .map(([name]) => name);
    const sandboxVars = Object.entries(ENV_KEYS)
      .filter(([, key]) => key.startsWith('sandbox.limits.'))
      .map(([name]) => name);
    for (const [name, s] of anvilServices(file)) {
      for (const v of Object.keys(env(s))) {
        if (!v.startsWith('NVIDIA_'))
          expect(Object.keys(ENV_KEYS), `${name}: ${v} is a config variable (config/schema.ts)`).toContain(v);
      }
    }
    expect(Object.keys(env(workerOf(file, 'llm')[0]![1]))).toEqual(
      expect.arrayContaining([...llmVars, 'ANVIL_LLM_CONCURRENCY']),
    );
    for (const kind of ['cpu', 'gpu'])
      expect(Object.keys(env(workerOf(file, kind)[0]![1]))).toEqual(
        expect.arrayContaining([...sandboxVars, 'ANVIL_SESSION_CONCURRENCY', 'ANVIL_HOST_ID']),
      );
    expect(Object.keys(env(workerOf(file, 'gpu')[0]![1]))).toEqual(
      expect.arrayContaining(['ANVIL_GPU_CONCURRENCY', 'ANVIL_GPU_EMULATE', 'ANVIL_GPU_IDS']),
    );
    // the key stays with the LLM worker (and the CLI), not every container
    for (const kind of ['control', 'cpu', 'gpu'])
      expect(env(workerOf(file, kind)[0]![1])).not.toHaveProperty('OPENAI_API_KEY');
    expect(env(services.gateway!)).not.toHaveProperty('OPENAI_API_KEY');
  });

  it('follows ANVIL_DATA, ANVIL_TEMPORAL_ADDRESS and host settings', () => {
    const other = composeConfig({
      POSTGRES_PASSWORD: 'from-the-env-file',
      ANVIL_DATA: '/mnt/shared/anvil',
      ANVIL_TEMPORAL_ADDRESS: 'host-a.example:7233',
      OPENAI_API_KEY: 'sk-test',
      ANVIL_CPU_CONCURRENCY: '3',
    });
    for (const [name, s] of anvilServices(other)) {
      expect(env(s).ANVIL_HOME, name).toBe('/mnt/shared/anvil');
      expect(mounts(s), name).toContainEqual({ source: '/mnt/shared/anvil', target: '/mnt/shared/anvil' });
      expect(env(s).TEMPORAL_ADDRESS, name).toBe('host-a.example:7233');
    }
    expect(env(workerOf(other, 'llm')[0]![1]).OPENAI_API_KEY).toBe('sk-test');
    expect(env(workerOf(other, 'cpu')[0]![1]).ANVIL_CPU_CONCURRENCY).toBe('3');
  });

  it('is safe by default: no Postgres password of its own, every port on 127.0.0.1, a read-only Temporal UI', () => {
    expect(() => composeConfig({})).toThrow(/POSTGRES_PASSWORD/);
    const file = config();
    const published = Object.entries(file.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, typeof p === 'string' ? p : JSON.stringify(p)] as const),
    );
    expect(published.length).toBeGreaterThanOrEqual(3);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:|"host_ip":"127\.0\.0\.1"/);
    const [, ui] = byImage(file, /temporalio\/ui$/)[0]!;
    expect(env(ui).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    const opened = composeConfig({ POSTGRES_PASSWORD: 'x', ANVIL_BIND_ADDRESS: '0.0.0.0' });
    expect(String(opened.services.gateway!.ports![0])).toMatch(/^0\.0\.0\.0:/);
  });
});

describe('docker-compose.offline.yml', () => {
  it('gives every service an image that scripts/build-cluster-images.sh builds, none from a registry', () => {
    const file = composeConfig(undefined, ['docker-compose.yml', 'docker-compose.offline.yml']);
    const script = readFileSync(join(ROOT, 'scripts/build-cluster-images.sh'), 'utf8');
    expect(Object.keys(file.services).sort()).toEqual(Object.keys(config().services).sort());
    for (const [name, service] of Object.entries(file.services)) {
      const [repo = '', tag = ''] = (service.image ?? '').split(':');
      expect(repo, name).toMatch(/^anvil-offline\//);
      expect(script, `${name}: the script builds ${repo}`).toMatch(new RegExp(`${repo}:(${tag}|\\$\\w+)\\b`));
    }
  });
});

describe("the README's deployment section", () => {
  const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

  it('names every service and the profiles they need', () => {
    const file = config();
    const section = readmeSection();
    for (const name of Object.keys(file.services)) expect(section, `service ${name}`).toContain(`\`${name}\``);
    const profiles = new Set(Object.values(file.services).flatMap((s) => s.profiles ?? []));
    for (const p of profiles) expect(section, `profile ${p}`).toMatch(new RegExp(`profile \`?${p}\\b`));
    for (const [, p] of section.matchAll(/--profile ([\w-]+)/g)) expect([...profiles], `--profile ${p}`).toContain(p);
  });

  it('scales real services with --scale and runs real ones', () => {
    const file = config();
    const section = readmeSection();
    const scaled = [...section.matchAll(/--scale ([\w-]+)=(\d+)/g)].map((m) => m[1]!);
    expect(scaled.length).toBeGreaterThan(0);
    for (const name of scaled) expect(Object.keys(file.services), `--scale ${name}`).toContain(name);
    for (const m of section.matchAll(/docker-compose (?:--profile \S+ )?(?:run --rm|logs -f) ([\w-]+)/g))
      expect(Object.keys(file.services)).toContain(m[1]);
    for (const m of section.matchAll(/--no-deps (?:--scale \S+ )*([\w-]+)/g))
      expect(Object.keys(file.services)).toContain(m[1]);
  });

  it('gives the published ports and documents every variable the file reads', () => {
    const file = config();
    const section = readmeSection();
    for (const name of ['gateway', 'temporal-ui']) {
      for (const p of ports(file.services[name]!)) expect(section, name).toContain(`localhost:${p.published}`);
    }
    const vars = new Set([...compose.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!));
    for (const v of vars) {
      if (!(v in ENV_KEYS)) expect(section, `compose variable ${v}`).toContain(`\`${v}\``);
    }
    // the defaults the variables table gives are the file's: `| \`A\`, \`B\` | a, b | … |`
    const fileDefaults = new Map([...compose.matchAll(/\$\{(\w+):-([^}]*)\}/g)].map((m) => [m[1]!, m[2]!]));
    const documented = new Map<string, string>();
    for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
      const [names = '', defaults = ''] = row.split(' | ').map((c) => c.replace(/^\| /, ''));
      const vs = [...names.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
      const ds = defaults.split(', ').map((d) => d.replace(/`/g, '').trim());
      if (vs.length > 0 && vs.length === ds.length) vs.forEach((v, i) => documented.set(v, ds[i]!));
    }
    for (const v of vars) {
      if (v in ENV_KEYS) continue;
      expect(documented.get(v), `the README's default of ${v}`).toBe(fileDefaults.get(v));
    }
  });
});
