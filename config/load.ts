import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { type AnvilConfig, configSchema, ENV_KEYS } from './schema';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Tree = { [key: string]: unknown };

function defaults(home: string): Tree {
  return {
    temporal: { namespace: 'default', devServer: { port: 7233, uiPort: 8233, dbFile: join(home, 'temporal.db') } },
    taskQueuePrefix: 'anvil',
    paths: { home, artifacts: join(home, 'artifacts'), catalog: join(home, 'catalog') },
    store: { backend: 'fs', snapshots: false, s3: { region: 'us-east-1', prefix: 'anvil/' } },
    sandbox: {
      backend: 'docker',
      limits: { cpus: 1, memoryMb: 2048, pids: 256, timeoutS: 600, outputBytes: 1 << 20, tmpMb: 256 },
      workspaceQuotaMb: 2048,
      workspaceRetentionS: 3600,
    },
    llm: {
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-4o-mini',
      models: {},
      responseFormat: 'auto',
      toolCalls: 'auto',
      timeoutS: 120,
      outputRetries: 2,
      designerToolSteps: 4,
      endpoints: [],
      endpointConcurrency: 4,
      apiKeys: {},
      pricePerMTokIn: 0,
      pricePerMTokOut: 0,
    },
    forge: { maxTasks: 3, repairRounds: 2, concurrency: 2, maxDatasetMb: 256, ladder: true },
    env: {
      steps: 50,
      wallTimeS: 4 * 3600,
      idleTimeoutS: 1800,
      rewardMode: 'position',
      max: {
        steps: 1000,
        wallTimeS: 24 * 3600,
        idleTimeoutS: 4 * 3600,
        runTimeoutS: 6 * 3600,
        memoryMb: 16384,
        cpus: 8,
      },
    },
    gateway: {
      keysFile: join(home, 'keys.json'),
      limits: { sessions: 32, stepsPerMinute: 600, rolloutEpisodes: 256, llmRollouts: false },
    },
    workers: {
      cpuConcurrency: Math.max(1, cpus().length),
      sessionConcurrency: 8 * Math.max(1, cpus().length),
      llmConcurrency: 4,
      gpuEmulate: false,
    },
  };
}

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isTree(v) && isTree(out[k]) ? merge(out[k] as Tree, v) : v;
  return out;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const k of keys.slice(0, -1)) node = (node[k] = isTree(node[k]) ? node[k] : {}) as Tree;
  node[keys.at(-1)!] = value;
}

function getPath(tree: Tree, path: (string | number | symbol)[]): unknown {
  return path.reduce<unknown>((node, k) => (isTree(node) ? node[String(k)] : undefined), tree);
}

/** Where a config key's value came from, for error messages. */
function sourceOf(key: string, env: NodeJS.ProcessEnv, file: string | undefined): string {
  const envVar = Object.entries(ENV_KEYS).find(([name, k]) => k === key && env[name] !== undefined)?.[0];
  if (envVar) return `env ${envVar}`;
  return file ? `${file} or defaults` : 'defaults';
}

/**
 * The resolved config: environment variables > anvil.config.json (or $ANVIL_CONFIG) > defaults.
 * Throws ConfigError naming the key, the value and what is allowed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AnvilConfig {
  const home = resolve(cwd, env.ANVIL_HOME ?? '.anvil');
  let tree = defaults(home);

  const file = env.ANVIL_CONFIG ? resolve(cwd, env.ANVIL_CONFIG) : join(cwd, 'anvil.config.json');
  const haveFile = existsSync(file);
  if (env.ANVIL_CONFIG && !haveFile) throw new ConfigError(`ANVIL_CONFIG points to ${file}, which does not exist`);
  if (haveFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`);
    }
    if (!isTree(parsed)) throw new ConfigError(`${file} must hold a JSON object, like the output of \`anvil config\``);
    tree = merge(tree, parsed);
  }

  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(tree, key, value);
  }

  // Named API keys for policies' apiKeyRef: ANVIL_LLM_KEY_VLLM_A sets llm.apiKeys.vllm_a.
  for (const [name, value] of Object.entries(env)) {
    const ref = /^ANVIL_LLM_KEY_([A-Z0-9_]{1,64})$/.exec(name)?.[1];
    if (ref && value) setPath(tree, `llm.apiKeys.${ref.toLowerCase()}`, value);
  }

  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return `unknown key(s) ${issue.keys.map((k) => (key ? `${key}.${k}` : k)).join(', ')} in ${file}; allowed keys are those \`anvil config\` prints`;
      }
      const value = JSON.stringify(getPath(tree, issue.path));
      return `${key} = ${value} (from ${sourceOf(key, env, haveFile ? file : undefined)}) is not allowed: ${issue.message}`;
    });
    throw new ConfigError(`invalid Anvil config:\n  - ${problems.join('\n  - ')}`);
  }
  return result.data;
}
