import { z } from 'zod';
import { keyLimitsSchema } from '../domain/api-keys';
import { sandboxLimitsSchema } from '../domain/sandbox';

const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.strictObject({
  temporal: z.strictObject({
    /** host:port of a Temporal cluster; unset = Anvil starts or reuses a local dev server. */
    address: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'expected host:port')
      .optional(),
    namespace: z.string().min(1),
    /** the Web UI of that cluster, for links; the embedded dev server's is known */
    uiUrl: z.string().url().optional(),
    devServer: z.strictObject({
      port: positiveInt.max(65535),
      uiPort: positiveInt.max(65535),
      dbFile: z.string().min(1),
    }),
  }),
  /** Queues are `<prefix>-control`, `<prefix>-llm`, `<prefix>-cpu`, `<prefix>-gpu`. */
  taskQueuePrefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  paths: z.strictObject({
    home: z.string().min(1),
    artifacts: z.string().min(1),
    catalog: z.string().min(1),
  }),
  /**
   * Where the catalog, trajectories, run artifacts and session snapshots live for every host
   * (package/store/): `fs` = the `paths` folders on a volume all hosts mount; `s3` = an
   * S3-compatible object store (credentials from the AWS SDK's usual sources, never from here).
   */
  store: z.strictObject({
    backend: z.enum(['fs', 's3']),
    /**
     * Dojo sessions snapshot their workspace to the store after each code step, and a session moved
     * to another host starts from the last one (its lost host fenced out): for clusters with several
     * sandbox hosts; off = a moved session's /workspace restarts empty.
     */
    snapshots: z.preprocess(
      (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
      z.boolean(),
    ),
    s3: z.strictObject({
      /** unset = AWS itself; a MinIO/Ceph/other S3-compatible server's URL otherwise */
      endpoint: z.string().url().optional(),
      bucket: z.string().min(1).optional(),
      region: z.string().min(1),
      /** every key starts with this (one bucket, several Anvil installations) */
      prefix: z.string(),
    }),
  }),
  sandbox: z.strictObject({
    /** `local`: plain processes, for hosts without Docker — trusted code only, weaker isolation (sandbox/local.ts) */
    backend: z.enum(['docker', 'local']),
    /** the local backend's Python interpreter; unset = `python3` from PATH */
    python: z.string().min(1).optional(),
    /** unset = the image built from sandbox/image (anvil/sandbox-python:<recipe hash>) */
    image: z.string().min(1).optional(),
    limits: sandboxLimitsSchema,
    /** a session's /workspace is a filesystem of this size (a loop-mounted image, when the host allows it); 0 = off */
    workspaceQuotaMb: z.coerce.number().int().min(0),
    /** a closed session's workspace is removed this long after the close */
    workspaceRetentionS: z.coerce.number().int().min(0),
  }),
  /** the `openai` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp, SGLang) */
  llm: z.strictObject({
    baseUrl: z.string().url('expected a URL such as https://api.openai.com/v1 or http://localhost:8000/v1'),
    apiKey: z.string().min(1).optional(),
    /** the model every role uses unless `models` names one for it */
    model: z.string().min(1),
    models: z.strictObject({
      brainstormer: z.string().min(1).optional(),
      designer: z.string().min(1).optional(),
      refactorer: z.string().min(1).optional(),
      reviewer: z.string().min(1).optional(),
      /** Synth's roles: Data Strategist, ML Developer, MLOps, Writer */
      strategist: z.string().min(1).optional(),
      developer: z.string().min(1).optional(),
      mlops: z.string().min(1).optional(),
      writer: z.string().min(1).optional(),
      /** the `openai` policy: the agent of episodes and RL rollouts */
      policy: z.string().min(1).optional(),
    }),
    /**
     * how replies are held to a JSON schema: `json_schema` (OpenAI, vLLM), `json_object` with a `schema`
     * (llama.cpp), `text` (JSON asked for in the prompt); `auto` = probe the server once per model
     */
    responseFormat: z.enum(['auto', 'json_schema', 'json_object', 'text']),
    /** how tool calls come back: `native` `tool_calls`, or `json` (one JSON object, for llama.cpp); `auto` = probe */
    toolCalls: z.enum(['auto', 'native', 'json']),
    /** the model's context window in tokens; unset = what the server's /models reports, else unchecked */
    contextTokens: positiveInt.optional(),
    /** the longest reply in tokens (`max_tokens`); unset = the server's default */
    maxTokens: positiveInt.optional(),
    /** one request's time limit */
    timeoutS: positiveInt,
    /** re-asks after an output that fails its schema, before the role fails for good */
    outputRetries: z.coerce.number().int().min(0).max(10),
    /** code runs the Designer may ask for per design */
    designerToolSteps: z.coerce.number().int().min(0).max(50),
    /**
     * Other endpoints a rollout's policy may name (policy.baseUrl; `*` = any text within one URL
     * segment), each with its own limits on the llm worker; env: comma-separated patterns.
     */
    endpoints: z.preprocess(
      (v) =>
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : v,
      z.array(
        z.union([
          z.string().min(1),
          z.strictObject({
            url: z.string().min(1),
            /** requests in flight at once to one endpoint matching this pattern; unset = endpointConcurrency */
            concurrency: positiveInt.optional(),
            /** requests started per minute to one such endpoint; unset = no limit */
            requestsPerMinute: positiveInt.optional(),
          }),
        ]),
      ),
    ),
    /** requests in flight at once per endpoint (the configured one too), unless its entry sets one */
    endpointConcurrency: positiveInt,
    /** named keys a policy refers to with apiKeyRef; env ANVIL_LLM_KEY_<NAME> sets apiKeys.<name> */
    apiKeys: z.record(z.string().regex(/^[a-z0-9_]{1,64}$/), z.string().min(1)),
    /** US dollars per million tokens, for the cost estimate in provenance */
    pricePerMTokIn: z.coerce.number().min(0),
    pricePerMTokOut: z.coerce.number().min(0),
  }),
  forge: z.strictObject({
    /** proposals the Brainstormer may make per dataset */
    maxTasks: positiveInt.max(20),
    /** repair rounds after a failed verification before a task is rejected */
    repairRounds: z.coerce.number().int().min(0).max(10),
    /** forgeTask children running at once per forgeDataset */
    concurrency: positiveInt.max(32),
    /** a larger dataset is refused at intake */
    maxDatasetMb: positiveInt,
    /** forge, verify, import and synth run the reference ladder (domain/ladder.ts) on tasks that execute */
    ladder: z.preprocess(
      (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
      z.boolean(),
    ),
  }),
  /** Dojo sessions: the budget a session gets unless its request sets one */
  env: z.strictObject({
    steps: positiveInt.max(1000),
    wallTimeS: positiveInt,
    idleTimeoutS: positiveInt,
    rewardMode: z.enum(['position', 'raw', 'medal']),
    /** the most a session's request may ask for: above it, a 400 naming the field and the maximum */
    max: z.strictObject({
      steps: positiveInt.max(1000),
      wallTimeS: positiveInt,
      idleTimeoutS: positiveInt,
      runTimeoutS: positiveInt,
      memoryMb: positiveInt,
      cpus: z.coerce.number().positive(),
    }),
  }),
  /** the HTTP gateway (anvil env serve): API keys and what each may spend unless its key says otherwise */
  gateway: z.strictObject({
    /** hashed keys, managed by `anvil keys` */
    keysFile: z.string().min(1),
    limits: keyLimitsSchema,
  }),
  workers: z.strictObject({
    cpuConcurrency: positiveInt,
    /** Dojo steps running at once on one host's session queue (light: they exec in warm containers) */
    sessionConcurrency: positiveInt,
    /** names this host's session queue; unset = the hostname */
    hostId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
      .optional(),
    llmConcurrency: positiveInt,
    /** unset = the number of GPUs the worker uses (one run per GPU) */
    gpuConcurrency: positiveInt.optional(),
    /** the GPUs the GPU worker uses, as `nvidia-smi` numbers them (env: comma-separated); unset = all */
    gpuIds: z
      .preprocess(
        (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v),
        z.array(z.string().regex(/^(\d+|GPU-[0-9A-Fa-f-]+)$/, 'a GPU index such as 0, or a GPU UUID')).min(1),
      )
      .optional(),
    /** run the GPU worker without a GPU (tests, CPU-only hosts); GPU runs get no device */
    gpuEmulate: z.preprocess(
      (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
      z.boolean(),
    ),
  }),
});

export type AnvilConfig = z.infer<typeof configSchema>;

/** Environment variables and the config key each one sets. */
export const ENV_KEYS: Record<string, string> = {
  TEMPORAL_ADDRESS: 'temporal.address',
  TEMPORAL_NAMESPACE: 'temporal.namespace',
  ANVIL_TEMPORAL_UI_URL: 'temporal.uiUrl',
  ANVIL_DEV_SERVER_PORT: 'temporal.devServer.port',
  ANVIL_DEV_SERVER_UI_PORT: 'temporal.devServer.uiPort',
  ANVIL_TASK_QUEUE_PREFIX: 'taskQueuePrefix',
  ANVIL_HOME: 'paths.home',
  ANVIL_ARTIFACTS: 'paths.artifacts',
  ANVIL_CATALOG: 'paths.catalog',
  ANVIL_STORE: 'store.backend',
  ANVIL_STORE_SNAPSHOTS: 'store.snapshots',
  ANVIL_S3_ENDPOINT: 'store.s3.endpoint',
  ANVIL_S3_BUCKET: 'store.s3.bucket',
  ANVIL_S3_REGION: 'store.s3.region',
  ANVIL_S3_PREFIX: 'store.s3.prefix',
  ANVIL_SANDBOX_BACKEND: 'sandbox.backend',
  ANVIL_SANDBOX_IMAGE: 'sandbox.image',
  ANVIL_SANDBOX_PYTHON: 'sandbox.python',
  ANVIL_SANDBOX_CPUS: 'sandbox.limits.cpus',
  ANVIL_SANDBOX_MEMORY_MB: 'sandbox.limits.memoryMb',
  ANVIL_SANDBOX_PIDS: 'sandbox.limits.pids',
  ANVIL_SANDBOX_TIMEOUT_S: 'sandbox.limits.timeoutS',
  ANVIL_SANDBOX_OUTPUT_BYTES: 'sandbox.limits.outputBytes',
  ANVIL_WORKSPACE_QUOTA_MB: 'sandbox.workspaceQuotaMb',
  ANVIL_WORKSPACE_RETENTION_S: 'sandbox.workspaceRetentionS',
  OPENAI_BASE_URL: 'llm.baseUrl',
  OPENAI_API_KEY: 'llm.apiKey',
  ANVIL_MODEL: 'llm.model',
  ANVIL_MODEL_BRAINSTORMER: 'llm.models.brainstormer',
  ANVIL_MODEL_DESIGNER: 'llm.models.designer',
  ANVIL_MODEL_REFACTORER: 'llm.models.refactorer',
  ANVIL_MODEL_REVIEWER: 'llm.models.reviewer',
  ANVIL_MODEL_STRATEGIST: 'llm.models.strategist',
  ANVIL_MODEL_DEVELOPER: 'llm.models.developer',
  ANVIL_MODEL_MLOPS: 'llm.models.mlops',
  ANVIL_MODEL_WRITER: 'llm.models.writer',
  ANVIL_MODEL_POLICY: 'llm.models.policy',
  ANVIL_LLM_RESPONSE_FORMAT: 'llm.responseFormat',
  ANVIL_LLM_TOOL_CALLS: 'llm.toolCalls',
  ANVIL_LLM_CONTEXT_TOKENS: 'llm.contextTokens',
  ANVIL_LLM_MAX_TOKENS: 'llm.maxTokens',
  ANVIL_LLM_TIMEOUT_S: 'llm.timeoutS',
  ANVIL_LLM_OUTPUT_RETRIES: 'llm.outputRetries',
  ANVIL_LLM_PRICE_IN: 'llm.pricePerMTokIn',
  ANVIL_LLM_ENDPOINTS: 'llm.endpoints',
  ANVIL_LLM_ENDPOINT_CONCURRENCY: 'llm.endpointConcurrency',
  ANVIL_LLM_PRICE_OUT: 'llm.pricePerMTokOut',
  ANVIL_FORGE_MAX_TASKS: 'forge.maxTasks',
  ANVIL_FORGE_REPAIR_ROUNDS: 'forge.repairRounds',
  ANVIL_FORGE_CONCURRENCY: 'forge.concurrency',
  ANVIL_FORGE_MAX_DATASET_MB: 'forge.maxDatasetMb',
  ANVIL_LADDER: 'forge.ladder',
  ANVIL_ENV_STEPS: 'env.steps',
  ANVIL_ENV_WALL_TIME_S: 'env.wallTimeS',
  ANVIL_ENV_IDLE_TIMEOUT_S: 'env.idleTimeoutS',
  ANVIL_ENV_REWARD_MODE: 'env.rewardMode',
  ANVIL_ENV_MAX_MEMORY_MB: 'env.max.memoryMb',
  ANVIL_ENV_MAX_CPUS: 'env.max.cpus',
  ANVIL_ENV_MAX_WALL_TIME_S: 'env.max.wallTimeS',
  ANVIL_ENV_MAX_IDLE_TIMEOUT_S: 'env.max.idleTimeoutS',
  ANVIL_ENV_MAX_RUN_TIMEOUT_S: 'env.max.runTimeoutS',
  ANVIL_KEYS_FILE: 'gateway.keysFile',
  ANVIL_KEY_SESSIONS: 'gateway.limits.sessions',
  ANVIL_KEY_STEPS_PER_MINUTE: 'gateway.limits.stepsPerMinute',
  ANVIL_KEY_ROLLOUT_EPISODES: 'gateway.limits.rolloutEpisodes',
  ANVIL_CPU_CONCURRENCY: 'workers.cpuConcurrency',
  ANVIL_SESSION_CONCURRENCY: 'workers.sessionConcurrency',
  ANVIL_HOST_ID: 'workers.hostId',
  ANVIL_LLM_CONCURRENCY: 'workers.llmConcurrency',
  ANVIL_GPU_CONCURRENCY: 'workers.gpuConcurrency',
  ANVIL_GPU_IDS: 'workers.gpuIds',
  ANVIL_GPU_EMULATE: 'workers.gpuEmulate',
};
