import type { Budget, BudgetLeft, InfoKind, TaskInfo } from './env';
import { medalThresholds } from './rewards';

/** Where things are inside a session's sandbox. */
export const SANDBOX_PATHS = {
  data: '/data',
  workspace: '/workspace',
  submission: '/workspace/submission.csv',
} as const;

/** What `request_info(kind)` answers, from the task's public facts only. */
export function infoOf(kind: InfoKind, task: TaskInfo, budget: Budget, left: BudgetLeft): Record<string, unknown> {
  switch (kind) {
    case 'overview':
      return {
        title: task.title,
        taskType: task.taskType,
        target: task.target,
        idColumn: task.idColumn,
        metric: task.metric,
        description: task.description,
        resources: task.resources,
        paths: SANDBOX_PATHS,
      };
    case 'data':
      return {
        files: task.files,
        columns: task.columns,
        trainRows: task.trainRows,
        sampleSubmission: task.sampleSubmission,
        target: task.target,
        idColumn: task.idColumn,
        paths: SANDBOX_PATHS,
      };
    case 'sample_submission':
      return {
        sampleSubmission: task.sampleSubmission,
        path: `${SANDBOX_PATHS.data}/sample_submission.csv`,
        writeTo: SANDBOX_PATHS.submission,
      };
    case 'metric':
      return {
        metric: task.metric,
        // each board's shape: how many entries, the range of their scores, where the medals start
        leaderboards: task.leaderboards.map((b) => ({
          name: b.name,
          entries: b.scores.length,
          ...(b.scores.length > 0
            ? {
                best: task.metric.higherIsBetter ? Math.max(...b.scores) : Math.min(...b.scores),
                worst: task.metric.higherIsBetter ? Math.min(...b.scores) : Math.max(...b.scores),
                thresholds: medalThresholds(b.scores, task.metric),
              }
            : {}),
        })),
      };
    case 'budget':
      return { budget, left };
  }
}
