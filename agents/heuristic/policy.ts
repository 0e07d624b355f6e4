import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Action, InfoKind, PolicyTurn } from '../../domain/env';
import { canonicalMetricName } from '../../domain/metrics';
import type { Policy } from '../policy';
import type { PolicyVariant } from '../../domain/policy-space';
import type { DesignConfig } from './designer';

/**
 * The reference agent: learns the task from request_info, validates a script filled in with what
 * it learnt: its variant's (domain/policy-space.ts: a rollout's seeded draw or a fidelity rung)
 * if it has one, else the Designer's baseline, else a constant prediction. It executes the first
 * script that validated and stops. Deterministic given its variant; it decides from the turns alone.
 */
export function createHeuristicPolicy({ variant }: { variant?: PolicyVariant } = {}): Policy {
  return { name: 'heuristic', next: async (turns) => nextAction(turns, variant) };
}

/** What the baseline script needs from `info` (overview: taskType, metric; data: the rest). */
const factsSchema = z.object({
  target: z.string().min(1),
  idColumn: z.string().min(1),
  taskType: z.string().min(1),
  metric: z.object({ name: z.string().min(1) }),
  columns: z.array(z.object({ name: z.string(), kind: z.string() })),
});
type Facts = z.infer<typeof factsSchema>;

type BaselineConfig = Pick<
  DesignConfig,
  'id' | 'target' | 'taskType' | 'metric' | 'numeric' | 'categorical' | 'text' | 'datetime'
>;

function nextAction(turns: PolicyTurn[], variant: PolicyVariant | undefined): Action | null {
  const last = turns.at(-1);
  if (last && (last.done || last.observation.done || last.observation.budget.stepsLeft <= 0)) return null;
  const taken = turns.flatMap((t) => (t.action ? [{ action: t.action, observation: t.observation }] : []));
  if (taken.some((t) => t.action.action === 'execute_code')) return null;

  const info: Record<string, unknown> = Object.assign(
    {},
    ...turns.filter((t) => t.observation.status === 'ok').map((t) => t.observation.info ?? {}),
  );
  const requested = (kind: InfoKind) =>
    taken.some((t) => t.action.action === 'request_info' && t.action.params.kind === kind);
  if (!('taskType' in info && 'metric' in info) && !requested('overview'))
    return { action: 'request_info', params: { kind: 'overview' } };
  if (!('columns' in info) && !requested('data')) return { action: 'request_info', params: { kind: 'data' } };

  const tried = taken.flatMap((t) =>
    t.action.action === 'validate_code' ? [{ code: t.action.params.code, observation: t.observation }] : [],
  );
  const passed = tried.find((t) => t.observation.status === 'ok' && t.observation.submission?.valid !== false);
  if (passed) return { action: 'execute_code', params: { code: passed.code } };

  const facts = factsSchema.safeParse(info);
  if (variant?.strict) {
    // a fidelity rung scores exactly its own script, or nothing
    if (!facts.success) return null;
    return { action: 'execute_code', params: { code: variantScript(facts.data, variant) } };
  }
  const images = facts.success && isImageTask(facts.data, info) ? [imageScript(facts.data)] : undefined;
  const fitted = facts.success
    ? (images ?? [...(variant ? [variantScript(facts.data, variant)] : []), baselineScript(facts.data)])
    : [];
  const scripts = [...fitted, fallbackScript(info)];
  const code = scripts[tried.length];
  if (!code) return null; // nothing validated: executing would only spend the budget
  // With one step left a validation would leave none to execute: run it for a score instead.
  return { action: last?.observation.budget.stepsLeft === 1 ? 'execute_code' : 'validate_code', params: { code } };
}

/** Python source whose first line sets CONFIG, as the Designer fills its templates. */
function withConfig(config: object, body: string): string {
  return `import json; CONFIG = json.loads(${JSON.stringify(JSON.stringify(config))})  # written by the heuristic policy\n${body}`;
}

/** The columns by kind, as the templates' CONFIG names them (id and target left out). */
function columnsOf(facts: Facts) {
  const features = facts.columns.filter((c) => c.name !== facts.target && c.name !== facts.idColumn);
  const of = (...kinds: string[]) => features.filter((c) => kinds.includes(c.kind)).map((c) => c.name);
  return {
    numeric: of('numeric', 'integer'),
    categorical: of('categorical', 'boolean'),
    text: of('text'),
    datetime: of('datetime'),
  };
}

/** A template's source without its placeholder first line. */
const templateBody = (name: string) =>
  readFileSync(join(__dirname, 'templates', name), 'utf8')
    .split('\n')
    .slice(1)
    .join('\n');

/** The variant's script (agents/heuristic/templates/variant.py) on the task's columns. */
function variantScript(facts: Facts, variant: PolicyVariant): string {
  const task = {
    id: facts.idColumn,
    target: facts.target,
    taskType: facts.taskType,
    metric: canonicalMetricName(facts.metric.name),
  };
  return withConfig({ ...task, ...columnsOf(facts), ...variant }, templateBody('variant.py'));
}

/** The Designer's baseline template on the task's columns. */
function baselineScript(facts: Facts): string {
  const config: BaselineConfig = {
    id: facts.idColumn,
    target: facts.target,
    taskType: facts.taskType,
    metric: canonicalMetricName(facts.metric.name),
    ...columnsOf(facts),
  };
  return withConfig(config, templateBody('baseline.py'));
}

/** The column of train.csv that names each image, as the Designer's image tasks have it. */
const IMAGE_COLUMN = 'image';

/** An image task: train.csv names an image per row and public/ holds a test/ folder beside test.csv. */
function isImageTask(facts: Facts, info: Record<string, unknown>): boolean {
  const files = Array.isArray(info.files) ? (info.files as { name?: unknown }[]) : [];
  return facts.columns.some((c) => c.name === IMAGE_COLUMN) && files.some((f) => f.name === 'test');
}

/** The Designer's image baseline (pixels and a linear model, or a small CNN where torch is). */
function imageScript(facts: Facts): string {
  const config = {
    id: facts.idColumn,
    target: facts.target,
    image: IMAGE_COLUMN,
    taskType: facts.taskType,
    metric: canonicalMetricName(facts.metric.name),
    size: 16,
  };
  return withConfig(config, templateBody('baseline_images.py'));
}

/**
 * A constant prediction in the sample submission's format, pandas only: the most frequent class
 * or the mean target, for every column of the sample submission that train.csv has. Unknown
 * facts (null) are read from the files.
 */
function fallbackScript(info: Record<string, unknown>): string {
  const id = typeof info.idColumn === 'string' ? info.idColumn : null;
  const classify = typeof info.taskType === 'string' ? info.taskType.endsWith('classification') : null;
  return withConfig({ id, classify }, FALLBACK_BODY);
}

const FALLBACK_BODY = `"""Fallback: one constant prediction per target column, in sample_submission.csv's format."""
import pandas as pd

train = pd.read_csv("/data/train.csv", low_memory=False)
submission = pd.read_csv("/data/sample_submission.csv")
id_column = CONFIG["id"] or submission.columns[0]
for col in [c for c in submission.columns if c != id_column and c in train]:  # the targets
    y = train[col].dropna()
    classify = CONFIG["classify"] if CONFIG["classify"] is not None else not pd.api.types.is_numeric_dtype(y)
    submission[col] = y.mode().iloc[0] if classify else y.mean()
submission.to_csv("/workspace/submission.csv", index=False)
`;
