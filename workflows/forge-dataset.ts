import { defineQuery, executeChild, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ProviderName } from '../domain/providers';
import type { ForgedTask, ForgeProgress, ForgeResult } from '../domain/forge';
import { SEARCH } from '../domain/search-attributes';
import { addUsage, NO_USAGE } from '../domain/usage';
import { intakeActivities, roleActivities } from './activity-proxies';
import { forgeTask } from './forge-task';

export interface ForgeDatasetInput {
  /** a data file or folder (CSV, TSV, JSON, JSONL, Parquet) readable by the control worker */
  dataset: string;
  /** where verified tasks are published */
  catalogDir: string;
  /** a name for the dataset (default: from the file name) */
  name?: string;
  maxTasks?: number;
  provider?: ProviderName;
  repairRounds?: number;
  /** forgeTask children at once */
  concurrency?: number;
  /** code runs the Designer may ask for per design (openai provider) */
  designerToolSteps?: number;
  /** run the reference ladder once execution passes (the CLI: config forge.ladder); absent = no ladder */
  ladder?: boolean;
}

export const forgeProgressQuery = defineQuery<ForgeProgress>('forgeProgress');

/** A dataset in, several verified tasks out: intake → Brainstormer → one forgeTask per proposal. */
export async function forgeDataset(input: ForgeDatasetInput): Promise<ForgeResult> {
  const { maxTasks = 3, provider = 'heuristic', repairRounds = 2, concurrency = 2, designerToolSteps = 4 } = input;
  const { workflowId } = workflowInfo();
  const progress: ForgeProgress = { stage: 'intake', tasks: [] };
  setHandler(forgeProgressQuery, () => progress);
  upsertSearchAttributes([{ key: SEARCH.stage, value: 'intake' }]);

  const intake = await intakeActivities.intakeDataset({ path: input.dataset, name: input.name });
  upsertSearchAttributes([
    { key: SEARCH.dataset, value: intake.name },
    { key: SEARCH.stage, value: 'brainstorm' },
  ]);
  progress.stage = 'brainstorm';
  const { proposals, usage: brainstormUsage } = await roleActivities().brainstorm({
    profileFile: intake.profileFile,
    maxTasks,
    provider,
  });

  progress.stage = 'tasks';
  upsertSearchAttributes([{ key: SEARCH.stage, value: 'tasks' }]);
  progress.tasks = proposals.map((p) => ({ id: p.id, workflowId: `${workflowId}--${p.id}`, status: 'pending' }));
  const results: ForgedTask[] = [];
  let next = 0;
  // A bounded window of children: each lane takes the next proposal when its child finishes.
  const lane = async () => {
    while (next < proposals.length) {
      const i = next++;
      const proposal = proposals[i]!;
      const entry = progress.tasks[i]!;
      entry.status = 'running';
      try {
        results[i] = await executeChild(forgeTask, {
          workflowId: entry.workflowId,
          args: [
            {
              forgeId: workflowId,
              profileFile: intake.profileFile,
              proposal,
              provider,
              repairRounds,
              catalogDir: input.catalogDir,
              designerToolSteps,
              ladder: input.ladder,
            },
          ],
          typedSearchAttributes: [{ key: SEARCH.dataset, value: intake.name }],
        });
      } catch (err) {
        // A crashed child is a rejected task with its reason, not a lost forge.
        results[i] = {
          id: proposal.id,
          status: 'rejected',
          path: '',
          metric: proposal.metric,
          scores: {},
          failedChecks: [crashReason(err)],
          rounds: 0,
          usage: NO_USAGE,
        };
      }
      entry.status = results[i]!.status;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  progress.stage = 'done';
  upsertSearchAttributes([{ key: SEARCH.stage, value: 'done' }]);
  return {
    workflowId,
    dataset: intake.name,
    tasks: results,
    usage: results.reduce((sum, t) => addUsage(sum, t.usage), brainstormUsage),
  };
}

/**
 * Why a forgeTask child crashed, for its rejected entry: the activity that failed and the root cause's
 * message (a role's output that failed its schema names the file its raw replies are kept in), not
 * the wrappers' "Child Workflow execution failed" / "Activity task failed".
 */
function crashReason(err: unknown): string {
  let activity: string | undefined;
  let message = (err as Error).message;
  for (let e = err as (Error & { activityType?: string }) | undefined; e; e = e.cause as typeof e) {
    if (e.activityType) activity = e.activityType;
    if (e.message) message = e.message;
  }
  return `forgeTask failed${activity ? ` in ${activity}` : ''}: ${message}`;
}
