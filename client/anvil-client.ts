import type { AnvilConfig } from '../config';
import { taskQueueName } from '../domain/queues';
import { connectTemporal, type TemporalConnection } from './connect';
import type { TaskSummary } from '../domain/env';
import type { EnvService } from './env-service';
import { createRolloutService, type RolloutService } from './rollouts';
import { createTemporalEnvService } from './temporal-envs';

export interface AnvilClientOptions {
  /** an open connection to share (workers beside a command): close() then leaves it open */
  temporal?: TemporalConnection;
  /** leave a dev server this starts running after the process exits (the CLI's commands do) */
  detachServer?: boolean;
  /** the catalog that sessions and rollouts read tasks from; default `paths.catalog` */
  catalogDir?: string;
  /** a catalog's published tasks, for `GET /v1/tasks` and to refuse an unknown task at once; unset = sessions check */
  listTasks?(catalogDir: string): Promise<TaskSummary[]>;
}

/** Everything a client of Anvil's Temporal cluster calls: Dojo sessions, rollouts, Web UI links. */
export interface AnvilClient {
  temporal: TemporalConnection;
  /** the Dojo over the catalog */
  envs: EnvService;
  /** the Dojo over another catalog (an episode names its own) */
  envsFor(catalogDir: string): EnvService;
  rollouts: RolloutService;
  /** the workflow's page in the Temporal Web UI; undefined when no UI is known */
  workflowUrl(workflowId: string): string | undefined;
  close(): Promise<void>;
}

/** The one place the client side is built from the config: connects (or shares `temporal`), then the services. */
export async function createAnvilClient(config: AnvilConfig, options: AnvilClientOptions = {}): Promise<AnvilClient> {
  const temporal = options.temporal ?? (await connectTemporal(config, { detachServer: options.detachServer ?? false }));
  const { client, uiUrl } = temporal;
  const controlQueue = taskQueueName(config.taskQueuePrefix, 'control');
  const catalogDir = options.catalogDir ?? config.paths.catalog;
  const { steps, wallTimeS, idleTimeoutS, rewardMode } = config.env;
  const { listTasks } = options;
  const envsFor = (dir: string) =>
    createTemporalEnvService({
      client,
      controlQueue,
      catalogDir: dir,
      ...(listTasks ? { listTasks: () => listTasks(dir) } : {}),
      defaults: { budget: { steps, wallTimeS, idleTimeoutS }, rewardMode },
      maxBudget: config.env.max,
    });
  const namespace = encodeURIComponent(config.temporal.namespace);
  return {
    temporal,
    envs: envsFor(catalogDir),
    envsFor,
    rollouts: createRolloutService({
      client,
      controlQueue,
      catalogDir,
      endpoints: {
        defaultUrl: config.llm.baseUrl,
        allowed: config.llm.endpoints.map((e) => (typeof e === 'string' ? e : e.url)),
      },
    }),
    workflowUrl: (id) => (uiUrl ? `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(id)}` : undefined),
    close: () => (options.temporal ? Promise.resolve() : temporal.close()),
  };
}
