import { z } from 'zod';
import { ACTION_PARAMS, ENV_ACTIONS, type EnvAction, type Observation, type TrajectoryEntry } from './env';

/**
 * Trajectories as supervised fine-tuning records: OpenAI's chat format with tool calls, one tool
 * per environment action. The same tools are what an OpenAI-compatible policy is given.
 */

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; tool_calls: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface SftRecord {
  messages: ChatMessage[];
  /**
   * the episode's final reward: the private-rows reward of its final submission when the trajectory
   * holds them, else (older trajectories) the best execute_code reward; 0 without one
   */
  reward: number;
  envId: string;
  taskId: string;
  /** actions in the record */
  steps: number;
}

const TOOL_DESCRIPTIONS: Record<EnvAction, string> = {
  request_info:
    'Facts about the task by kind: "overview" (title, task type, target, id column, metric, description), "data" (files, train.csv columns, sample submission), "sample_submission", "metric", "budget" (steps and time left).',
  validate_code:
    'Runs a Python script in the sandbox (public data read-only under /data; it must write /workspace/submission.csv) and says whether that submission would be accepted. No score.',
  execute_code:
    'Runs a Python script like validate_code, then grades /workspace/submission.csv on the public part of the hidden answers: returns its score and reward.',
  get_history: 'Past actions and their results; `last` keeps only the most recent ones.',
  reset: 'A fresh, empty /workspace for the same task.',
  select_submission:
    "Marks an earlier execute_code step's submission as your final one (by default the last valid one is).",
};

/** JSON Schema of an action's params as a caller may send them (defaults make keys optional). */
function parametersOf(action: EnvAction): Record<string, unknown> {
  const schema: Record<string, unknown> = z.toJSONSchema(ACTION_PARAMS[action], { io: 'input' });
  delete schema.$schema; // tool parameters are a bare schema
  return schema;
}

/** The five actions as OpenAI `tools`. */
export const ENV_TOOLS = ENV_ACTIONS.map((name) => ({
  type: 'function' as const,
  function: { name, description: TOOL_DESCRIPTIONS[name], parameters: parametersOf(name) },
}));

export const DEFAULT_SYSTEM_PROMPT = [
  'You are a machine-learning engineer solving a competition-style task in a sandboxed environment.',
  'Act through the tools, one per turn; every action spends one step of a limited budget:',
  ...ENV_ACTIONS.map((name) => `- ${name}: ${TOOL_DESCRIPTIONS[name]}`),
  "Your reward is your final submission's score on the private test rows (revealed at the end), ranked against the task's leaderboard.",
].join('\n');

const INSTRUCTION =
  'Solve this task: train on the data under /data and write predictions for the test set to /workspace/submission.csv.';

/** stdout/stderr beyond this many characters (from the end) are cut. */
const OUTPUT_TAIL = 2000;

export function toSftRecord(entries: TrajectoryEntry[], opts: { system?: string } = {}): SftRecord {
  const sorted = [...entries]
    .sort((a, b) => a.step - b.step)
    .filter((e, i, all) => i === 0 || all[i - 1]!.step !== e.step);
  const first = sorted[0];
  if (!first) throw new Error('an empty trajectory has no SFT record');

  const messages: ChatMessage[] = [
    { role: 'system', content: opts.system ?? DEFAULT_SYSTEM_PROMPT },
    { role: 'user', content: openingOf(sorted) },
  ];
  for (const entry of sorted) {
    const id = `call_${entry.step}`;
    messages.push({
      role: 'assistant',
      tool_calls: [{ id, type: 'function', function: { name: entry.action, arguments: JSON.stringify(entry.params) } }],
    });
    messages.push({ role: 'tool', tool_call_id: id, content: JSON.stringify(compact(entry.observation)) });
  }
  return {
    messages,
    reward: finalReward(sorted),
    envId: first.envId,
    taskId: first.taskId,
    steps: sorted.length,
  };
}

/** The selected (else last) scored submission's private reward; trajectories without one: the best step reward. */
function finalReward(entries: TrajectoryEntry[]): number {
  const scored = entries.filter((e) => e.hidden);
  if (scored.length === 0) {
    const rewards = entries.filter((e) => e.action === 'execute_code').map((e) => e.reward);
    return rewards.length ? Math.max(...rewards) : 0;
  }
  const selections = entries.filter((e) => e.action === 'select_submission' && e.observation.status === 'ok');
  const selected = selections.at(-1)?.params.step;
  return (scored.find((e) => e.step === selected) ?? scored.at(-1)!).hidden!.reward;
}

/**
 * The session's opening observation is not in the trajectory: the task as the first overview
 * (else any request_info) showed it, or the bare instruction.
 */
function openingOf(entries: TrajectoryEntry[]): string {
  const infos = entries.filter(
    (e) => e.action === 'request_info' && e.observation.status === 'ok' && e.observation.info,
  );
  const shown = infos.find((e) => (e.params.kind ?? 'overview') === 'overview') ?? infos[0];
  if (!shown?.observation.info) return INSTRUCTION;
  const { description, ...facts } = shown.observation.info;
  return [INSTRUCTION, typeof description === 'string' ? description : '', JSON.stringify(facts)]
    .filter(Boolean)
    .join('\n\n');
}

/** The observation without what the tool call already says (step, action), outputs cut to their tails. */
export function compact(observation: Observation): Record<string, unknown> {
  const kept = Object.entries(observation).filter(([key]) => key !== 'step' && key !== 'action');
  const { run } = observation;
  return {
    ...Object.fromEntries(kept),
    ...(run && { run: { ...run, stdout: tail(run.stdout), stderr: tail(run.stderr) } }),
  };
}

function tail(text: string): string {
  return text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text;
}
