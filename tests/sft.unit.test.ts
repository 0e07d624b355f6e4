import { describe, expect, it } from 'vitest';
import {
  ACTION_PARAMS,
  ENV_ACTIONS,
  type EnvAction,
  INFO_KINDS,
  type Observation,
  type TrajectoryEntry,
} from '../domain/env';
import { type ChatMessage, DEFAULT_SYSTEM_PROMPT, ENV_TOOLS, toSftRecord } from '../domain/sft';

const DESCRIPTION =
  '# Palmer penguins: male or female?\n\nPredict whether an adult penguin is male from its species, island and body measurements.';
const BASELINE = 'import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n# …\n';

function entry(
  step: number,
  action: EnvAction,
  params: Record<string, unknown>,
  over: Partial<Observation> = {},
  reward = 0,
): TrajectoryEntry {
  const observation: Observation = {
    step,
    action,
    status: 'ok',
    message: `${action} done`,
    budget: { stepsUsed: step, stepsLeft: 20 - step, wallTimeLeftS: 3000 },
    done: false,
    ...over,
  };
  const startedAt = new Date(Date.UTC(2025, 0, 1, 0, step)).toISOString();
  return {
    envId: 'env-7f3a',
    taskId: 'penguins-sex',
    step,
    action,
    params,
    observation,
    reward,
    done: observation.done,
    timings: { startedAt, endedAt: startedAt, ms: 1200 },
  };
}

const run = (stderr: string, exitCode = 0) => ({
  exitCode,
  timedOut: false,
  oomKilled: false,
  wallMs: 4200,
  stdout: 'fitting\n',
  stderr,
  outputTruncated: false,
});
const overviewInfo = {
  kind: 'overview',
  title: 'Palmer penguins: male or female from body measurements',
  taskType: 'binary-classification',
  target: 'is_male',
  idColumn: 'id',
  metric: { name: 'roc-auc', higherIsBetter: true, bounds: [0, 1] },
  description: DESCRIPTION,
  resources: { cpus: 1, memoryMb: 1024, gpu: false, timeLimitS: 300 },
};
const traceback = `Traceback (most recent call last):\n${'  File "/workspace/main.py", line 3, in <module>\n'.repeat(80)}KeyError: 'sex'`;

/** An episode as a session records it: step 4 written twice (a retried write), lines out of order. */
const trajectory: TrajectoryEntry[] = [
  entry(1, 'request_info', { kind: 'overview' }, { info: overviewInfo }),
  entry(
    2,
    'request_info',
    { kind: 'data' },
    {
      info: {
        kind: 'data',
        columns: [
          { name: 'id', kind: 'id' },
          { name: 'species', kind: 'categorical' },
        ],
        trainRows: 249,
        target: 'is_male',
        idColumn: 'id',
      },
    },
  ),
  entry(
    3,
    'validate_code',
    { code: 'import pandas as pd\npd.read_csv("/data/train.csv")["sex"]\n' },
    {
      status: 'error',
      message: 'the script failed',
      run: run(traceback, 1),
      error: { type: 'KeyError', message: "'sex'", likelyCauses: ['a column name that train.csv does not have'] },
    },
  ),
  entry(
    5,
    'execute_code',
    { code: BASELINE },
    {
      run: run(''),
      score: { raw: 0.93, position: 0.6, medal: 'bronze' },
      best: { raw: 0.93, position: 0.6, medal: 'bronze' },
    },
    0.6,
  ),
  entry(4, 'validate_code', { code: BASELINE }, { run: run(''), submission: { valid: true } }),
  entry(4, 'validate_code', { code: BASELINE }, { run: run(''), submission: { valid: true } }),
  entry(
    6,
    'execute_code',
    { code: `${BASELINE}# worse\n` },
    { run: run(''), score: { raw: 0.9, position: 0.4, medal: 'none' }, done: true, doneReason: 'closed' },
    0.4,
  ),
];

const toolCalls = (messages: ChatMessage[]) => messages.flatMap((m) => (m.role === 'assistant' ? m.tool_calls : []));
const toolResults = (messages: ChatMessage[]) => messages.flatMap((m) => (m.role === 'tool' ? [m] : []));

describe('toSftRecord', () => {
  const record = toSftRecord(trajectory);

  it('system, user, then an assistant tool call and its result per step, in step order, duplicates dropped', () => {
    expect(record.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      ...Array.from({ length: 6 }, () => ['assistant', 'tool']).flat(),
    ]);
    expect(record).toMatchObject({ envId: 'env-7f3a', taskId: 'penguins-sex', steps: 6 });
    const calls = toolCalls(record.messages);
    expect(calls.map((c) => c.id)).toEqual(['call_1', 'call_2', 'call_3', 'call_4', 'call_5', 'call_6']);
    expect(toolResults(record.messages).map((m) => m.tool_call_id)).toEqual(calls.map((c) => c.id));
    expect(calls.map((c) => c.function.name)).toEqual([
      'request_info',
      'request_info',
      'validate_code',
      'validate_code',
      'execute_code',
      'execute_code',
    ]);
    // each call's arguments are the step's params, and valid params of its action
    const byStep = new Map(trajectory.map((e) => [`call_${e.step}`, e]));
    for (const call of calls) {
      const params: unknown = JSON.parse(call.function.arguments);
      expect(params).toEqual(byStep.get(call.id)!.params);
      expect(ACTION_PARAMS[call.function.name as EnvAction].safeParse(params).success).toBe(true);
    }
  });

  it('the user message opens with the task as the overview showed it; the system message names the actions', () => {
    const [system, user] = record.messages;
    expect(system).toEqual({ role: 'system', content: DEFAULT_SYSTEM_PROMPT });
    for (const action of ENV_ACTIONS) expect(DEFAULT_SYSTEM_PROMPT).toContain(action);
    expect(user?.role).toBe('user');
    const content = user && 'content' in user ? user.content : '';
    expect(content).toContain(DESCRIPTION);
    expect(content).toContain('"target":"is_male"');
    expect(toSftRecord(trajectory, { system: 'Be brief.' }).messages[0]).toEqual({
      role: 'system',
      content: 'Be brief.',
    });
    const codeOnly = toSftRecord(trajectory.filter((e) => e.action !== 'request_info')).messages[1];
    expect(codeOnly).toMatchObject({ role: 'user', content: expect.stringContaining('/workspace/submission.csv') });
    expect(codeOnly && 'content' in codeOnly ? codeOnly.content : '').not.toContain('is_male');
  });

  it('tool results keep errors, scores and output tails, not what the call already says', () => {
    const results = toolResults(record.messages).map((m) => JSON.parse(m.content) as Record<string, unknown>);
    const failed = results[2] as Partial<Observation>;
    expect(failed).not.toHaveProperty('step');
    expect(failed).not.toHaveProperty('action');
    expect(failed).toMatchObject({ status: 'error', error: { type: 'KeyError' }, run: { exitCode: 1 } });
    expect(failed.run!.stderr.length).toBeLessThanOrEqual(2001);
    expect(failed.run!.stderr.endsWith("KeyError: 'sex'")).toBe(true);
    expect(traceback.length).toBeGreaterThan(2001); // so the tail was cut
    expect(results[4]).toMatchObject({ score: { raw: 0.93 }, budget: { stepsLeft: 15 } });
    expect(results[0]).toMatchObject({ info: { description: DESCRIPTION } });
  });

  it('reward: the best execute_code reward, 0 without one', () => {
    expect(record.reward).toBe(0.6);
    expect(toSftRecord(trajectory.slice(0, 3)).reward).toBe(0);
    expect(() => toSftRecord([])).toThrow(/empty/);
  });
});

/** A JSON Schema check of what the action schemas produce: object, required keys, known keys, typed values. */
function accepts(schema: Record<string, unknown>, value: Record<string, unknown>): boolean {
  const properties = (schema.properties ?? {}) as Record<string, { type?: string; enum?: unknown[] }>;
  const required = (schema.required ?? []) as string[];
  const typed = (v: unknown, p: { type?: string; enum?: unknown[] }) =>
    (!p.enum || p.enum.includes(v)) &&
    (p.type === 'string' ? typeof v === 'string' : p.type === 'integer' ? Number.isInteger(v) : p.type === undefined);
  return (
    schema.type === 'object' &&
    required.every((k) => k in value) &&
    Object.entries(value).every(([k, v]) =>
      k in properties ? typed(v, properties[k]!) : schema.additionalProperties !== false,
    )
  );
}

describe('ENV_TOOLS', () => {
  const params = (name: EnvAction) => ENV_TOOLS.find((t) => t.function.name === name)!.function.parameters;

  it('one function tool per action, with a description', () => {
    expect(ENV_TOOLS.map((t) => t.function.name)).toEqual([...ENV_ACTIONS]);
    expect(ENV_TOOLS.every((t) => t.type === 'function' && t.function.description.length > 10)).toBe(true);
    expect(ENV_TOOLS.every((t) => !('$schema' in t.function.parameters))).toBe(true);
  });

  it('the parameter schemas accept every valid params and require what the actions require', () => {
    const valid: [EnvAction, Record<string, unknown>][] = [
      ...INFO_KINDS.map((kind): [EnvAction, Record<string, unknown>] => ['request_info', { kind }]),
      ['request_info', {}],
      ['validate_code', { code: BASELINE }],
      ['execute_code', { code: BASELINE }],
      ['get_history', {}],
      ['get_history', { last: 5 }],
      ['reset', {}],
    ];
    for (const [action, value] of valid) {
      expect(ACTION_PARAMS[action].safeParse(value).success, `${action} ${JSON.stringify(value)}`).toBe(true);
      expect(accepts(params(action), value), `${action} ${JSON.stringify(value)}`).toBe(true);
    }
    expect(params('execute_code')).toMatchObject({
      required: ['code'],
      properties: { code: { type: 'string' } },
      additionalProperties: false,
    });
    expect(params('request_info')).toMatchObject({
      properties: { kind: { enum: [...INFO_KINDS], default: 'overview' } },
    });
    // and they reject what the actions reject
    expect(accepts(params('execute_code'), {})).toBe(false);
    expect(accepts(params('validate_code'), { code: 3 })).toBe(false);
    expect(accepts(params('request_info'), { kind: 'answers' })).toBe(false);
    expect(accepts(params('reset'), { hard: true })).toBe(false);
  });
});
