/**
 * The fidelity report: does a task rank policies of known strength in their known order, and do
 * sets of tasks (forged, imported human-made, synthetic micro tasks, their seeds) order them alike?
 * Pure: scores in, figures and a Vega-Lite chart spec out (cli/commands/fidelity.ts runs the
 * policies and renders the chart).
 */

export const TASK_SETS = ['forged', 'imported', 'micro', 'seed'] as const;
export type TaskSet = (typeof TASK_SETS)[number];

/** Where a task comes from, by its manifest: a Synth micro task, an import, a seed of a micro task, else forged. */
export function taskSetOf(manifest: Record<string, unknown>, seedIds: Set<string>): TaskSet {
  if (manifest.synthetic) return 'micro';
  if (typeof manifest.id === 'string' && seedIds.has(manifest.id)) return 'seed';
  const source = manifest.source as { kind?: unknown } | undefined;
  return source?.kind === 'mle-bench' || source?.kind === 'mle-dojo' ? 'imported' : 'forged';
}

/** Ranks from 1 (smallest), ties sharing their average rank. */
export function averageRanks(values: number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's ρ: Pearson's correlation of the average ranks; undefined when either side is constant or short. */
export function spearman(a: number[], b: number[]): number | undefined {
  if (a.length !== b.length || a.length < 2) return undefined;
  const [ra, rb] = [averageRanks(a), averageRanks(b)];
  const mean = (r: number[]) => r.reduce((s, x) => s + x, 0) / r.length;
  const [ma, mb] = [mean(ra), mean(rb)];
  let [num, da, db] = [0, 0, 0];
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? undefined : num / Math.sqrt(da * db);
}

/** One task's scores, one per policy of the ladder (weakest first); undefined where the policy scored nothing. */
export interface TaskScores {
  taskId: string;
  set: TaskSet;
  higherIsBetter: boolean;
  scores: (number | undefined)[];
}

export interface TaskFidelity extends TaskScores {
  /** ρ between the policies' strength and their scores (undefined when fewer than 2 scored, or all tied) */
  rho?: number;
  /** each policy's place on this task, 0 (worst) to 1 (best), ties averaged; undefined where it scored nothing */
  placeOf: (number | undefined)[];
}

export interface SetFidelity {
  set: TaskSet;
  tasks: number;
  meanRho?: number;
  /** each policy's place averaged over the set's tasks: the set's order of the policies */
  meanPlace: (number | undefined)[];
}

export interface FidelityReport {
  policies: string[];
  tasks: TaskFidelity[];
  sets: SetFidelity[];
  /** ρ between two sets' orders of the policies (their mean places), for every pair that has tasks */
  agreement: { a: TaskSet; b: TaskSet; rho?: number }[];
}

const meanOf = (values: (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? known.reduce((s, v) => s + v, 0) / known.length : undefined;
};

function taskFidelity(task: TaskScores): TaskFidelity {
  const scored = task.scores.flatMap((s, i) => (s === undefined ? [] : [{ i, good: task.higherIsBetter ? s : -s }]));
  const rho = spearman(
    scored.map((s) => s.i),
    scored.map((s) => s.good),
  );
  const ranks = averageRanks(scored.map((s) => s.good));
  const placeOf = task.scores.map(() => undefined as number | undefined);
  scored.forEach((s, k) => (placeOf[s.i] = scored.length > 1 ? (ranks[k]! - 1) / (scored.length - 1) : undefined));
  return { ...task, ...(rho === undefined ? {} : { rho }), placeOf };
}

export function fidelityReport(policies: string[], scores: TaskScores[]): FidelityReport {
  const tasks = scores.map(taskFidelity);
  const sets = TASK_SETS.flatMap((set): SetFidelity[] => {
    const mine = tasks.filter((t) => t.set === set);
    if (mine.length === 0) return [];
    const meanPlace = policies.map((_, i) => meanOf(mine.map((t) => t.placeOf[i])));
    const meanRho = meanOf(mine.map((t) => t.rho));
    return [{ set, tasks: mine.length, ...(meanRho === undefined ? {} : { meanRho }), meanPlace }];
  });
  const agreement = sets.flatMap((a, i) =>
    sets.slice(i + 1).map((b) => {
      const both = policies.flatMap((_, k) =>
        a.meanPlace[k] !== undefined && b.meanPlace[k] !== undefined ? [[a.meanPlace[k]!, b.meanPlace[k]!]] : [],
      );
      const rho = spearman(
        both.map(([x]) => x!),
        both.map(([, y]) => y!),
      );
      return { a: a.set, b: b.set, ...(rho === undefined ? {} : { rho }) };
    }),
  );
  return { policies, tasks, sets, agreement };
}

/**
 * A Vega-Lite chart of the report: per task set, each policy's mean place (0 worst, 1 best) in
 * ladder order; a faithful set climbs from bottom left to top right. Thin lines are single tasks.
 */
export function fidelityChart(report: FidelityReport): Record<string, unknown> {
  const count = (set: TaskSet) => report.sets.find((s) => s.set === set)?.tasks ?? 0;
  const setLines = report.sets.flatMap((s) =>
    report.policies.flatMap((policy, i) =>
      s.meanPlace[i] === undefined
        ? []
        : [{ policy, strength: i, place: s.meanPlace[i], set: `${s.set} (${s.tasks})` }],
    ),
  );
  const taskLines = report.tasks.flatMap((t) =>
    report.policies.flatMap((policy, i) =>
      t.placeOf[i] === undefined
        ? []
        : [{ policy, strength: i, place: t.placeOf[i], task: t.taskId, set: `${t.set} (${count(t.set)})` }],
    ),
  );
  const x = { field: 'policy', type: 'ordinal', sort: report.policies, title: 'policy (weakest → strongest)' };
  const y = {
    field: 'place',
    type: 'quantitative',
    scale: { domain: [0, 1] },
    title: 'place on the task (0 worst, 1 best)',
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Fidelity: do task sets order policies of known strength alike?',
    width: 420,
    height: 300,
    layer: [
      {
        data: { values: taskLines },
        mark: { type: 'line', opacity: 0.2, strokeWidth: 1 },
        encoding: { x, y, detail: { field: 'task' }, color: { field: 'set' } },
      },
      {
        data: { values: setLines },
        mark: { type: 'line', point: true, strokeWidth: 3 },
        encoding: { x, y, color: { field: 'set', title: 'task set (tasks)' } },
      },
    ],
  };
}
