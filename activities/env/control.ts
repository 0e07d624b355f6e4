import { stat } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { TaskInfo, TrajectoryEntry } from '../../domain/env';
import { catalogTaskDir } from '../../package/catalog';
import { BadPackageError } from '../../package/errors';
import { type CatalogOpener, materializeCatalogPath } from '../../package/open-catalog';
import { packagePaths } from '../../package/layout';
import type { Trajectories } from '../../package/trajectories';
import { confinedPath } from '../confine';
import { readTaskInfo } from './task-info';

/** Control-queue activities of a Dojo session: the task's public facts, and the trajectory. */
export function createEnvControlActivities({
  trajectories,
  catalogs,
  roots,
}: {
  /** the configured backend's trajectories (package/trajectories.ts) */
  trajectories: Trajectories;
  /** the catalog in a folder (default: this worker's); a store's is fetched to this host on open */
  catalogs: CatalogOpener;
  /** the folders a session's catalogDir must lie under (activities/confine.ts) */
  roots: string[];
}) {
  // Sessions on the same task share its facts: train.csv is profiled once per published copy
  // (a republished task is a new manifest file, so a new inode).
  const known = new Map<string, { stamp: string; task: TaskInfo }>();
  async function taskInfo(taskId: string, packageDir: string): Promise<TaskInfo> {
    const info = await stat(packagePaths(packageDir).manifest).catch(() => undefined);
    const stamp = info ? `${info.ino}:${info.mtimeMs}` : '';
    const cached = known.get(packageDir);
    if (info && cached?.stamp === stamp) return cached.task;
    const task = await readTaskInfo(taskId, packageDir);
    known.set(packageDir, { stamp, task });
    return task;
  }

  return {
    /** Reads the task (from `catalogDir`, else this worker's catalog) and names the session's trajectory (its ref). */
    async openTask({
      envId,
      taskId,
      catalogDir: catalog,
    }: {
      envId: string;
      taskId: string;
      catalogDir?: string;
    }): Promise<{ task: TaskInfo; trajectory: string }> {
      try {
        const at = catalogs(catalog ? confinedPath(catalog, roots, 'catalogDir') : undefined);
        const packageDir = catalogTaskDir(at.dir, taskId);
        if (!packageDir) throw new BadPackageError(`"${taskId}" is not a task id (lowercase letters, digits, dashes)`);
        await materializeCatalogPath(at, packageDir);
        const task = await taskInfo(taskId, packageDir);
        return { task, trajectory: await trajectories.open(envId) };
      } catch (err) {
        if (err instanceof BadPackageError) throw ApplicationFailure.nonRetryable(err.message, 'BadTask');
        throw err;
      }
    },

    /** Appends one step to the trajectory once (idempotent by step); `file` is its ref (a path in older histories). */
    async appendTrajectory({ file, entry }: { file: string; entry: TrajectoryEntry }): Promise<void> {
      await trajectories.append(file, entry);
    },
  };
}

export type EnvControlActivities = ReturnType<typeof createEnvControlActivities>;
