// Every workflow type the control worker registers.
export { forgeDataset } from './forge-dataset';
export { forgeTask } from './forge-task';
export { envSession } from './env-session';
export { episode } from './episode';
export { gradeTask } from './grade-task';
export { rolloutBatch } from './rollout-batch';
export { sandboxRun } from './sandbox-run';
export { sandboxSmoke } from './sandbox-smoke';
export { verifyPackage } from './verify-package';
export { synthesizeTasks } from './synthesize-tasks';
export { trainRun } from './train-run';
