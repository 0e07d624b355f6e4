import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHeuristicPolicy } from '../agents/heuristic/policy';
import { drawVariant, FIDELITY_LADDER } from '../domain/policy-space';
import type { Policy } from '../agents/policy';
import { profileTable } from '../activities/intake/profile';
import type { Action, EnvAction, Observation, PolicyTurn, TaskInfo } from '../domain/env';
import type { TaskManifest } from '../domain/task';

const PACKAGE = join(__dirname, 'fixtures', 'packages', 'penguins-sex');
const read = (path: string) => readFileSync(join(PACKAGE, path), 'utf8');

/** TaskInfo of penguins-sex as the environment would hold it, built from the package's raw data. */
function penguinsTask(): TaskInfo {
  const manifest = JSON.parse(read('task.json')) as TaskManifest;
  // prepare.py renames the raw columns, keeps the sexed penguins, adds the target and integer ids
  const renames = [...read('prepare.py').matchAll(/^ {4}"([^"]+)": "([a-z_]+)",$/gm)].map(
    (m) => [m[1]!, m[2]!] as const,
  );
  const raw = (JSON.parse(read('raw/penguins.json')) as Record<string, string | number | null>[]).filter(
    (p) => p.Sex === 'MALE' || p.Sex === 'FEMALE',
  );
  const names = ['id', ...renames.map(([, to]) => to), 'is_male'];
  const values = [
    raw.map((_, i) => String(i + 1)),
    ...renames.map(([from]) => raw.map((p) => (p[from] == null ? null : String(p[from])))),
    raw.map((p) => (p.Sex === 'MALE' ? '1' : '0')),
  ];
  const { columns } = profileTable({ columns: names, values, rows: raw.length });
  const trainRows = raw.length - Math.ceil(raw.length * 0.25); // train_test_split(test_size=0.25)
  return {
    taskId: manifest.id,
    packageDir: PACKAGE,
    title: manifest.title,
    taskType: manifest.taskType,
    target: manifest.target,
    idColumn: manifest.idColumn,
    metric: manifest.metric,
    resources: manifest.resources,
    description: read('description.md'),
    files: [
      { name: 'sample_submission.csv', bytes: 1100 },
      { name: 'test.csv', bytes: 4800 },
      { name: 'train.csv', bytes: 14500 },
    ],
    columns: columns.map(({ name, kind, missing, distinct, top, stats }) => ({
      name,
      kind,
      missing,
      distinct,
      top,
      stats,
    })),
    trainRows,
    sampleSubmission: 'id,is_male\n8,0.5\n120,0.5\n',
    leaderboards: [{ name: 'public', scores: [0.5, 0.93] }],
  };
}

const task = penguinsTask();
const overview = {
  title: task.title,
  taskType: task.taskType,
  target: task.target,
  idColumn: task.idColumn,
  metric: task.metric,
  description: task.description,
  resources: task.resources,
};
const data = {
  files: task.files,
  columns: task.columns,
  trainRows: task.trainRows,
  sampleSubmission: task.sampleSubmission,
  target: task.target,
  idColumn: task.idColumn,
};

const STEPS = 10;
function observation(step: number, action: EnvAction | 'open', over: Partial<Observation> = {}): Observation {
  return {
    step,
    action,
    status: 'ok',
    message: `${action} done`,
    budget: { stepsUsed: step, stepsLeft: STEPS - step, wallTimeLeftS: 3600 },
    done: false,
    ...over,
  };
}

/** What the environment answers to an action (its observation's fields beyond the defaults). */
type Responder = (action: Action, step: number) => Partial<Observation>;

const answers: Responder = (action) => {
  if (action.action === 'request_info')
    return { info: { kind: action.params.kind, ...(action.params.kind === 'overview' ? overview : data) } };
  if (action.action === 'validate_code') return { submission: { valid: true } };
  if (action.action === 'execute_code') return { score: { raw: 0.9, position: 0.5, medal: 'none' } };
  return {};
};

/** Runs the policy to its end (or 20 actions); returns the turns, the opening first. */
async function drive(policy: Policy, respond: Responder, opening: Partial<Observation> = {}): Promise<PolicyTurn[]> {
  const turns: PolicyTurn[] = [{ observation: observation(0, 'open', opening), reward: 0, done: false }];
  for (let step = 1; step <= 20; step++) {
    const action = await policy.next(turns);
    if (!action) break;
    const obs = observation(step, action.action, respond(action, step));
    turns.push({ observation: obs, reward: obs.score ? 0.5 : 0, done: obs.done, action });
  }
  return turns;
}

const actionsOf = (turns: PolicyTurn[]) =>
  turns.flatMap((t) =>
    t.action ? [t.action.action === 'request_info' ? `request_info:${t.action.params.kind}` : t.action.action] : [],
  );
const codeOf = (turn: PolicyTurn | undefined) =>
  turn?.action && 'code' in turn.action.params ? turn.action.params.code : '';

/** The JSON config a generated script carries on its first line. */
function configOf(code: string): Record<string, unknown> {
  const literal = /^import json; CONFIG = json\.loads\((".*")\)/.exec(code)?.[1];
  if (!literal) throw new Error(`no CONFIG line in: ${code.split('\n')[0]}`);
  return JSON.parse(JSON.parse(literal) as string) as Record<string, unknown>;
}

describe('heuristic policy', () => {
  it('learns the task, validates the baseline with CONFIG from the data info, executes it and stops', async () => {
    const turns = await drive(createHeuristicPolicy(), answers);
    expect(actionsOf(turns)).toEqual(['request_info:overview', 'request_info:data', 'validate_code', 'execute_code']);
    const code = codeOf(turns[3]);
    expect(configOf(code)).toEqual({
      id: 'id',
      target: 'is_male',
      taskType: 'binary-classification',
      metric: 'roc-auc',
      numeric: ['beak_length_mm', 'beak_depth_mm', 'flipper_length_mm', 'body_mass_g'],
      categorical: ['species', 'island'],
      text: [],
      datetime: [],
    });
    // the rest is the Designer's baseline template, as is
    const template = readFileSync(join(__dirname, '..', 'agents', 'heuristic', 'templates', 'baseline.py'), 'utf8');
    expect(code.split('\n').slice(1).join('\n')).toBe(template.split('\n').slice(1).join('\n'));
    expect(codeOf(turns[4])).toBe(code);
  });

  it('leaves the id column out of the features even when it was profiled as a plain integer', async () => {
    const integerId = task.columns.map((c) => (c.name === task.idColumn ? { ...c, kind: 'integer' as const } : c));
    const respond: Responder = (action, step) =>
      action.action === 'request_info' && action.params.kind === 'data'
        ? { info: { ...data, columns: integerId } }
        : answers(action, step);
    const turns = await drive(createHeuristicPolicy(), respond);
    expect(configOf(codeOf(turns[3]))).toMatchObject({
      numeric: ['beak_length_mm', 'beak_depth_mm', 'flipper_length_mm', 'body_mass_g'],
    });
  });

  it('skips the overview when the opening observation already has it', async () => {
    const turns = await drive(createHeuristicPolicy(), answers, { info: { kind: 'overview', ...overview } });
    expect(actionsOf(turns)).toEqual(['request_info:data', 'validate_code', 'execute_code']);
  });

  it('falls back to a constant, pandas-only prediction when the baseline fails, and executes that', async () => {
    const failFirst: Responder = (action, step) =>
      action.action === 'validate_code' && step === 3
        ? {
            status: 'error',
            message: 'the script failed',
            error: { type: 'ValueError', message: 'No feature columns', likelyCauses: [] },
          }
        : answers(action, step);
    const turns = await drive(createHeuristicPolicy(), failFirst);
    expect(actionsOf(turns)).toEqual([
      'request_info:overview',
      'request_info:data',
      'validate_code',
      'validate_code',
      'execute_code',
    ]);
    const fallback = codeOf(turns[4]);
    expect(fallback).not.toBe(codeOf(turns[3]));
    expect(configOf(fallback)).toEqual({ id: 'id', classify: true });
    expect(fallback).not.toMatch(/sklearn/);
    expect(fallback).toContain('/data/sample_submission.csv');
    expect(codeOf(turns[5])).toBe(fallback);
  });

  it('treats a rejected submission as a failure, and stops without executing when nothing validates', async () => {
    const rejected: Responder = (action, step) =>
      action.action === 'validate_code'
        ? { submission: { valid: false, error: 'missing ids' } }
        : answers(action, step);
    const turns = await drive(createHeuristicPolicy(), rejected);
    expect(actionsOf(turns)).toEqual(['request_info:overview', 'request_info:data', 'validate_code', 'validate_code']);
  });

  it('goes straight to the fallback when the info lacks what the baseline needs', async () => {
    const noInfo: Responder = (action, step) =>
      action.action === 'request_info' ? { status: 'error', message: 'unavailable' } : answers(action, step);
    const turns = await drive(createHeuristicPolicy(), noInfo);
    expect(actionsOf(turns)).toEqual(['request_info:overview', 'request_info:data', 'validate_code', 'execute_code']);
    expect(configOf(codeOf(turns[3]))).toEqual({ id: null, classify: null });
  });

  it('stops when the episode is done or the budget is spent; with one step left it executes instead of validating', async () => {
    const policy = createHeuristicPolicy();
    const opening = (over: Partial<Observation>): PolicyTurn[] => [
      { observation: observation(0, 'open', over), reward: 0, done: over.done ?? false },
    ];
    expect(await policy.next(opening({ done: true, doneReason: 'wall-time' }))).toBeNull();
    expect(await policy.next([{ observation: observation(0, 'open'), reward: 0, done: true }])).toBeNull();
    expect(await policy.next(opening({ budget: { stepsUsed: 3, stepsLeft: 0, wallTimeLeftS: 60 } }))).toBeNull();

    const tight: Responder = (action, step) => ({
      ...answers(action, step),
      budget: { stepsUsed: step, stepsLeft: 3 - step, wallTimeLeftS: 60 },
    });
    const turns = await drive(policy, tight, { budget: { stepsUsed: 0, stepsLeft: 3, wallTimeLeftS: 60 } });
    expect(actionsOf(turns)).toEqual(['request_info:overview', 'request_info:data', 'execute_code']);
  });

  it('with a variant, validates the variant script first (CONFIG: the task, its columns and the variant), then the baseline', async () => {
    const variant = drawVariant(7, 3);
    const rejectFirst: Responder = (action, step) =>
      action.action === 'validate_code' && step === 3
        ? { submission: { valid: false, error: 'bad' } }
        : answers(action, step);
    const turns = await drive(createHeuristicPolicy({ variant }), rejectFirst);
    expect(actionsOf(turns)).toEqual([
      'request_info:overview',
      'request_info:data',
      'validate_code',
      'validate_code',
      'execute_code',
    ]);
    expect(configOf(codeOf(turns[3]))).toMatchObject({ id: 'id', target: 'is_male', metric: 'roc-auc', ...variant });
    expect(codeOf(turns[3])).toContain('FAMILY, P, SEED');
    expect(configOf(codeOf(turns[4]))).not.toHaveProperty('family'); // the baseline
  });

  it('with a fidelity rung (strict), executes the rung as is after learning the task: no validation, no baseline', async () => {
    const rung = FIDELITY_LADDER.at(-1)!.variant;
    const turns = await drive(createHeuristicPolicy({ variant: rung }), answers);
    expect(actionsOf(turns)).toEqual(['request_info:overview', 'request_info:data', 'execute_code']);
    expect(configOf(codeOf(turns[3]))).toMatchObject({ family: 'selected', strict: true });
  });

  it('on an image task (train.csv names images, test/ beside it) validates the image baseline, even with a variant', async () => {
    const imageData = {
      ...data,
      target: 'label',
      files: [...task.files, { name: 'test', bytes: 4096 }, { name: 'train', bytes: 4096 }],
      columns: [
        { name: 'id', kind: 'id', missing: 0, distinct: 240 },
        { name: 'image', kind: 'id', missing: 0, distinct: 240 },
        { name: 'label', kind: 'categorical', missing: 0, distinct: 10 },
      ],
    };
    const imageOverview = {
      ...overview,
      target: 'label',
      taskType: 'multiclass-classification',
      metric: { name: 'accuracy', higherIsBetter: true },
    };
    const respond: Responder = (action, step) =>
      action.action === 'request_info'
        ? { info: { kind: action.params.kind, ...(action.params.kind === 'overview' ? imageOverview : imageData) } }
        : answers(action, step);
    const turns = await drive(createHeuristicPolicy({ variant: drawVariant(0, 1) }), respond);
    expect(actionsOf(turns)).toEqual(['request_info:overview', 'request_info:data', 'validate_code', 'execute_code']);
    expect(configOf(codeOf(turns[3]))).toEqual({
      id: 'id',
      target: 'label',
      image: 'image',
      taskType: 'multiclass-classification',
      metric: 'accuracy',
      size: 16,
    });
    expect(codeOf(turns[3])).toContain('def pixels(');
  });
});
