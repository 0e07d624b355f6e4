import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { TaskInfo, TrajectoryEntry } from '../../domain/env';
import { BadTaskError, readTaskInfo } from './task-info';

/** Control-queue activities of a Dojo session: the task's public facts, and the trajectory file. */
export function createEnvControlActivities({ artifactsDir, catalogDir }: { artifactsDir: string; catalogDir: string }) {
  return {
    /** Reads the task (from `catalogDir`, else this worker's catalog) and names the session's trajectory file. */
    async openTask({ envId, taskId, catalogDir: catalog }: { envId: string; taskId: string; catalogDir?: string }): Promise<{ task: TaskInfo; trajectory: string }> {
      try {
        const task = await readTaskInfo(taskId, join(catalog ?? catalogDir, taskId));
        const dir = join(artifactsDir, 'trajectories');
        await mkdir(dir, { recursive: true });
        return { task, trajectory: join(dir, `${envId.replace(/[^A-Za-z0-9_.-]+/g, '_')}.jsonl`) };
      } catch (err) {
        if (err instanceof BadTaskError || /does not match anvil.task/.test((err as Error).message)) throw ApplicationFailure.nonRetryable((err as Error).message, 'BadTask');
        throw err;
      }
    },

    /**
     * Appends one step to the trajectory, once: a retried append (or a replayed step) whose step
     * number is already in the file is skipped.
     */
    async appendTrajectory({ file, entry }: { file: string; entry: TrajectoryEntry }): Promise<void> {
      const existing = await readFile(file, 'utf8').catch(() => '');
      // A line a crash cut short has no newline: complete it so the next line stays parseable.
      if (existing && !existing.endsWith('\n')) await appendFile(file, '\n');
      const steps = new Set(existing.split('\n').flatMap((line) => {
        try {
          return [(JSON.parse(line) as TrajectoryEntry).step];
        } catch {
          return [];
        }
      }));
      if (steps.has(entry.step)) return;
      await appendFile(file, `${JSON.stringify(entry)}\n`);
    },
  };
}

export type EnvControlActivities = ReturnType<typeof createEnvControlActivities>;
