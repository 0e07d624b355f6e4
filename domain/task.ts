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
/**
 * The sandbox image a task's code runs in (sandbox/image/): python-ml (scikit-learn, XGBoost, Pillow)
 * by default; python-torch adds Debian's CPU PyTorch. Each builds offline, once, when a task needs it.
 */
export const SANDBOX_PROFILES = ['python-ml', 'python-torch'] as const;
export type SandboxProfile = (typeof SANDBOX_PROFILES)[number];
export const DEFAULT_SANDBOX_PROFILE: SandboxProfile = 'python-ml';

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

/**
 * The public/private split of the hidden test rows, as Kaggle runs it: a fixed, seeded share of the
 * test ids is "public" (step feedback is scored on those), the rest "private" (the final reward).
 */
export const testSplitSchema = z.strictObject({
  publicShare: z.number().min(0).max(1).default(0.3),
  seed: z.number().int().default(0),
});
export type TestSplit = z.output<typeof testSplitSchema>;
export const DEFAULT_TEST_SPLIT: TestSplit = { publicShare: 0.3, seed: 0 };

/** The split a manifest's fields ask for; the default when it names none (older packages) or a broken one. */
export function testSplitOf(fields: Record<string, unknown> | undefined): TestSplit {
  const parsed = testSplitSchema.safeParse(fields?.testSplit ?? {});
  return parsed.success ? parsed.data : DEFAULT_TEST_SPLIT;
}

/**
 * A forecasting task's time axis: the time column, the columns naming each series (none = one
 * series), and how many time steps past the forecast origin the test covers. The origin is the
 * last time step in train.csv, the same for every series.
 */
export const forecastSchema = z.strictObject({
  time: z.string().min(1),
  series: z.array(z.string().min(1)),
  horizon: z.number().int().positive(),
});
export type ForecastSpec = z.infer<typeof forecastSchema>;

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
  /** the sandbox image profile its code runs in; absent = DEFAULT_SANDBOX_PROFILE */
  sandbox: z.looseObject({ profile: z.enum(SANDBOX_PROFILES) }).optional(),
  /** the public share of the test ids and its seed; absent = DEFAULT_TEST_SPLIT */
  testSplit: testSplitSchema.optional(),
  /** forecasting tasks: the time axis that verification's forecast.* checks read */
  forecast: forecastSchema.optional(),
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

/** The sandbox profile a manifest names (the default when it names none). */
export const sandboxProfileOf = (manifest: Pick<TaskManifest, 'sandbox'>): SandboxProfile =>
  manifest.sandbox?.profile ?? DEFAULT_SANDBOX_PROFILE;

/** A package as files: path relative to the package root → content (its data folders aside). */
export const packageFilesSchema = z.record(z.string().min(1), z.string());
export type PackageFiles = z.infer<typeof packageFilesSchema>;
