import { z } from 'zod';
import { METRICS } from './metrics';
import { metricSpecSchema, MODALITIES, TASK_TYPES } from './task';

/** A task the Brainstormer proposes for a dataset; the Designer turns each into a package. */
export const proposalSchema = z.object({
  /** becomes the task id */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,79}$/),
  title: z.string().min(1),
  target: z.string().min(1),
  taskType: z.enum(TASK_TYPES),
  modality: z.enum(MODALITIES),
  /** a metric the package templates and graders know (a manifest may name others: imported tasks) */
  metric: metricSpecSchema.extend({ name: z.enum(Object.keys(METRICS) as [string, ...string[]]) }),
  /** why this formulation is worth a task */
  rationale: z.string().min(1),
});
export type TaskProposal = z.infer<typeof proposalSchema>;
export const proposalsSchema = z.array(proposalSchema);
