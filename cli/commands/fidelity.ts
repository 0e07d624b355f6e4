import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { type FidelityReport, fidelityChart, fidelityReport, type TaskScores, taskSetOf } from '../../domain/fidelity';
import { FIDELITY_LADDER } from '../../domain/policy-space';
import type { RolloutResult } from '../../domain/rollouts';
import { openCatalog } from '../../package/open-catalog';
import type { rolloutBatch } from '../../workflows';
import { withTemporal } from '../embedded';
import { inputError } from '../failure-report';
import { renderSvg } from '../chart';
import { workflowResult } from '../workflow-result';

export const help = `anvil fidelity [--tasks id,id,…] [--catalog DIR] [--concurrency C] [--json] [--plot FILE.svg]
  Runs the fidelity ladder (${FIDELITY_LADDER.map((r) => r.name).join(' < ')}: the heuristic policy pinned
  to policies of known strength) on each task (default: the whole catalog) and reports per task
  Spearman's ρ between strength and the private-rows score, and per task set (forged, imported,
  micro, seed) the mean ρ and whether the sets order the policies alike (ρ between their orders).
  --plot writes the chart as SVG. Exit 0 reported, 1 no task scored, 2 unusable input, 3 infrastructure.`;

const fixed = (x: number | undefined, digits = 3) => (x === undefined ? '—' : x.toFixed(digits));

/** The report as text: a line per task, per set, and per pair of sets. */
function printReport(report: FidelityReport): void {
  console.log(`policies, weakest first: ${report.policies.join(' < ')}\n`);
  for (const t of report.tasks)
    console.log(
      `${t.taskId.padEnd(40)} ${t.set.padEnd(9)} ρ ${fixed(t.rho).padStart(6)}  scores ${t.scores.map((s) => fixed(s, 4)).join(' ')}`,
    );
  console.log('');
  for (const s of report.sets)
    console.log(
      `${s.set.padEnd(9)} ${String(s.tasks).padStart(3)} tasks  mean ρ ${fixed(s.meanRho)}  order ${s.meanPlace.map((p) => fixed(p, 2)).join(' ')}`,
    );
  console.log('');
  for (const a of report.agreement) console.log(`agreement ${a.a} vs ${a.b}: ρ ${fixed(a.rho)}`);
}

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      tasks: { type: 'string', multiple: true },
      catalog: { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
      plot: { type: 'string' },
    },
  });
  const catalogDir = resolve(values.catalog ?? config.paths.catalog);
  const catalog = await (await openCatalog(config, { dir: catalogDir })).list();
  const wanted = (values.tasks ?? []).flatMap((v) => v.split(',')).filter(Boolean);
  const unknown = wanted.filter((id) => !catalog.some((e) => e.id === id));
  if (unknown.length) throw inputError(`no task ${unknown.join(', ')} in ${catalogDir}`, 'see `anvil tasks list`');
  const entries = wanted.length ? catalog.filter((e) => wanted.includes(e.id)) : catalog;
  if (entries.length === 0) throw inputError(`no tasks in ${catalogDir}`, 'forge, import or synthesize tasks first');
  const fields = entries.map((e) => e.manifest as Record<string, unknown>);
  const seedIds = new Set(
    catalog.flatMap((e) => {
      const seed = (e.manifest.synthetic as { seedTaskId?: string } | undefined)?.seedTaskId;
      return seed ? [seed] : [];
    }),
  );
  const concurrency = values.concurrency ? Number(values.concurrency) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw inputError(
      `--concurrency must be a positive whole number (got ${values.concurrency})`,
      'e.g. --concurrency 4',
    );

  const result = await withTemporal(
    config,
    async ({ temporal, rollouts, workflowUrl }) => {
      const { id } = await rollouts.start({
        tasks: entries.map((e) => e.id),
        policy: 'heuristic',
        samplesPerTask: FIDELITY_LADDER.length,
        fidelity: true,
        rewardMode: 'raw',
        maxSteps: 8,
        concurrency,
      });
      if (!values.json)
        console.error(`rolloutBatch ${id} started (${entries.length} tasks × ${FIDELITY_LADDER.length} policies)`);
      const handle = temporal.client.workflow.getHandle<typeof rolloutBatch>(id);
      return (await workflowResult(handle, workflowUrl(id))) as RolloutResult;
    },
    { catalogDir },
  );

  const scores: TaskScores[] = entries.map((e, k) => ({
    taskId: e.id,
    set: taskSetOf(fields[k]!, seedIds),
    higherIsBetter: e.manifest.metric.higherIsBetter,
    scores: FIDELITY_LADDER.map((_, sample) => {
      const episode = result.episodes.find((x) => x.task === e.id && x.sample === sample);
      return episode?.status === 'completed' && episode.finalStep !== undefined ? episode.reward : undefined;
    }),
  }));
  const report = fidelityReport(
    FIDELITY_LADDER.map((r) => r.name),
    scores,
  );
  if (values.plot) writeFileSync(values.plot, await renderSvg(fidelityChart(report)));
  if (values.json) console.log(JSON.stringify(report));
  else printReport(report);
  return report.tasks.some((t) => t.scores.some((s) => s !== undefined)) ? 0 : 1;
}
