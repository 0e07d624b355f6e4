import { z } from 'zod';

export const TASK_SCHEMA = 'anvil.task/v1';
export const TASK_TYPES = [
  'binary-classification',
  'multiclass-classification',
  'multilabel-classification',
  'regression',
  'ranking',
  'forecasting',
  'other',
] as const;
export const MODALITIES = ['tabular', 'text', 'image', 'time-series', 'audio', 'multimodal'] as const;
export type TaskType = (typeof TASK_TYPES)[number];
export type Modality = (typeof MODALITIES)[number];
/** A task id: also its folder name in the catalog. */
export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,79}$/;

export const metricSpecSchema = z.looseObject({
  /** e.g. accuracy, macro-f1, log-loss, roc-auc, rmse, mae, rmsle */
  name: z.string().min(1),
  higherIsBetter: z.boolean(),
  /** [lowest, highest] values the metric can take, whatever its direction; null = unbounded on that side */
  bounds: z.tuple([z.number().nullable(), z.number().nullable()]).optional(),
});
export type MetricSpec = z.infer<typeof metricSpecSchema>;

export const resourcesSchema = z.looseObject({
  cpus: z.number().positive(),
  memoryMb: z.number().int().positive(),
  gpu: z.boolean(),
  timeLimitS: z.number().int().positive(),
});

/** task.json. Unknown extra fields are kept (loose objects). */
export const taskManifestSchema = z.looseObject({
  schema: z.literal(TASK_SCHEMA),
  id: z.string().regex(TASK_ID_PATTERN, 'lowercase letters, digits and dashes, 2-80 characters'),
  title: z.string().min(1),
  taskType: z.enum(TASK_TYPES),
  modality: z.enum(MODALITIES),
  target: z.string().min(1),
  idColumn: z.string().min(1),
  metric: metricSpecSchema,
  resources: resourcesSchema,
  /** a task made by Synth: its seed task, row counts, and the generator that wrote raw/ */
  synthetic: z
    .looseObject({
      seedTaskId: z.string().min(1),
      rows: z.object({ train: z.number().int().positive(), test: z.number().int().positive() }),
      generator: z.string().min(1),
    })
    .optional(),
});
export type TaskManifest = z.infer<typeof taskManifestSchema>;

/** A package as files: path relative to the package root → content (its data folders aside). */
export const packageFilesSchema = z.record(z.string().min(1), z.string());
export type PackageFiles = z.infer<typeof packageFilesSchema>;
