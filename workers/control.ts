import { Worker } from '@temporalio/worker';
import { createCatalogActivities } from '../activities/catalog';
import { createEnvControlActivities } from '../activities/env/control';
import { createEpisodeEnvActivities } from '../activities/rollouts';
import { createIntakeActivities } from '../activities/intake';
import { createSmokeActivities } from '../activities/smoke';
import { createSynthPackageActivities } from '../activities/synth-package';
import { taskQueueName } from '../domain/queues';
import { openCatalogs } from '../package/open-catalog';
import { openTrajectories } from '../package/trajectories';
import { inputRoots, type WorkerDeps } from './deps';
import { artifactSync } from './store-sync';

/** `<prefix>-control`: every workflow, and the cheap file activities (staging, intake, catalog, Dojo task facts and trajectories, episodes' env actions). */
export async function createControlWorker(deps: WorkerDeps): Promise<Worker[]> {
  const { connection, anvil, config, workflowBundle } = deps;
  const catalogs = deps.catalogs ?? (await openCatalogs(config));
  const synced = await artifactSync(config, catalogs);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueName(config.taskQueuePrefix, 'control'),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: synced({
      ...createSmokeActivities({ artifactsDir: config.paths.artifacts }),
      ...createIntakeActivities({ artifactsDir: config.paths.artifacts, maxDatasetMb: config.forge.maxDatasetMb }),
      ...createCatalogActivities({ artifactsDir: config.paths.artifacts, catalogs }),
      ...createEnvControlActivities({
        trajectories: await openTrajectories(config),
        catalogs,
        roots: inputRoots(config),
      }),
      ...createSynthPackageActivities({ artifactsDir: config.paths.artifacts, catalogs }),
      ...createEpisodeEnvActivities({ envsFor: (catalogDir) => anvil.envsFor(catalogDir ?? config.paths.catalog) }),
    }),
  });
  return [worker];
}
