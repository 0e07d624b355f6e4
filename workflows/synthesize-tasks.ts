import {
  ApplicationFailure,
  defineQuery,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ProviderName } from '../domain/providers';
import type { MedalThresholds } from '../domain/rewards';
import { SEARCH } from '../domain/search-attributes';
import {
  baselineScores,
  DEFAULT_SYNTH_ROWS,
  type SynthesizedTask,
  type SynthProgress,
  type SynthReport,
  type SynthResult,
  type SynthScores,
  synthTaskId,
  testRowsFor,
  trainRowsFor,
} from '../domain/synth';
import { addUsage, NO_USAGE, type Usage } from '../domain/usage';
import { type CheckResult, verdictOf } from '../domain/verification';
import {
  catalogActivities,
  synthPackageActivities,
  synthRoleActivities,
  synthSandboxActivities,
} from './activity-proxies';
import { verifyPackageDir } from './verification';

export interface SynthesizeTasksInput {
  /** a verified task published in `catalogDir` */
  seedTaskId: string;
  /** where the seed lies and the synthetic tasks are published */
  catalogDir: string;
  /** synthetic tasks to make (default 3) */
  count?: number;
  /** training rows, [min, max] (default [50, 200]): the tasks spread evenly over them */
  rows?: [number, number];
  provider?: ProviderName;
  /** rounds after the first draft that may repair failed checks (default 2) */
  repairRounds?: number;
  /** tasks worked on at once (default 2) */
  concurrency?: number;
  /** run the reference ladder once execution passes (the CLI: config forge.ladder); absent = no ladder */
  ladder?: boolean;
}

export const synthProgressQuery = defineQuery<SynthProgress>('synthProgress');

/**
 * A seed task in, `count` verified micro tasks out: Data Strategist (the seed's DNA) → per task,
 * ML Developer (generator.py, split, metric, reference solutions) → generator run twice in the
 * sandbox → Writer (description in a new domain, task.json) → the Forge's verifier → reference
 * solutions and the oracle → MLOps (medal thresholds) → the `synth.*` checks. A failed check goes
 * back to the ML Developer, up to `repairRounds` times; verified tasks are published.
 */
export async function synthesizeTasks(input: SynthesizeTasksInput): Promise<SynthResult> {
  const {
    seedTaskId,
    catalogDir,
    count = 3,
    rows = DEFAULT_SYNTH_ROWS,
    provider = 'heuristic',
    repairRounds = 2,
    concurrency = 2,
  } = input;
  if (!Number.isInteger(count) || count < 1 || count > 50)
    throw ApplicationFailure.nonRetryable(`count must be a whole number from 1 to 50 (got ${count})`, 'BadSynthInput');
  if (!rows.every(Number.isInteger) || rows[0] < 20 || rows[0] > rows[1])
    throw ApplicationFailure.nonRetryable(
      `rows must be [min, max] whole numbers with 20 <= min <= max (got ${JSON.stringify(rows)})`,
      'BadSynthInput',
    );
  const { workflowId } = workflowInfo();
  const ids = Array.from({ length: count }, (_, i) => synthTaskId(seedTaskId, i + 1));
  const progress: SynthProgress = { stage: 'dna', tasks: ids.map((id) => ({ id, status: 'pending', round: 0 })) };
  setHandler(synthProgressQuery, () => progress);
  upsertSearchAttributes([
    { key: SEARCH.taskId, value: seedTaskId },
    { key: SEARCH.stage, value: 'dna' },
  ]);

  const { seedFile } = await synthPackageActivities.readSeed({ seedTaskId, catalogDir, synthId: workflowId });
  const { dnaFile, usage: dnaUsage } = await synthRoleActivities().extractSynthDna({ seedFile, provider });
  progress.stage = 'tasks';
  upsertSearchAttributes([{ key: SEARCH.stage, value: 'tasks' }]);

  const results: SynthesizedTask[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const train = trainRowsFor(i + 1, count, rows);
      results[i] = await synthesizeOne({
        taskId: ids[i]!,
        rows: { train, test: testRowsFor(train) },
        dnaFile,
        provider,
        repairRounds,
        catalogDir,
        entry: progress.tasks[i]!,
        ladder: input.ladder,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  progress.stage = 'done';
  const verified = results.filter((t) => t.status === 'verified').length;
  upsertSearchAttributes([
    { key: SEARCH.stage, value: 'done' },
    { key: SEARCH.verdict, value: verified === count ? 'verified' : verified > 0 ? 'partial' : 'rejected' },
  ]);
  return {
    workflowId,
    seedTaskId,
    tasks: results,
    usage: results.reduce((sum, t) => addUsage(sum, t.usage), dnaUsage),
  };
}

interface OneTask {
  taskId: string;
  rows: { train: number; test: number };
  dnaFile: string;
  provider: ProviderName;
  repairRounds: number;
  catalogDir: string;
  entry: SynthProgress['tasks'][number];
  ladder?: boolean;
}

/** One synthetic task through its rounds; every round's draft and report stay in the artifact store. */
async function synthesizeOne({
  taskId,
  rows,
  dnaFile,
  provider,
  repairRounds,
  catalogDir,
  entry,
  ladder,
}: OneTask): Promise<SynthesizedTask> {
  const roles = synthRoleActivities();
  let draftDir: string | undefined;
  let failed: CheckResult[] = [];
  let report: SynthReport | undefined;
  let scores: SynthScores = { references: {} };
  let thresholds: MedalThresholds | undefined;
  let rounds = 0;
  let usage: Usage = NO_USAGE;
  for (let round = 0; round <= repairRounds; round++) {
    entry.round = round;
    entry.status = 'develop';
    const draft = await roles.developSynthetic({
      dnaFile,
      rows,
      draft: { synthId: workflowInfo().workflowId, taskId, round },
      previousDraftDir: draftDir,
      failed,
      provider,
    });
    usage = addUsage(usage, draft.usage);
    if (draft.giveUp) break; // the ML Developer knows no repair: the last report stands
    draftDir = draft.draftDir;
    entry.status = 'generate';
    const generator = await synthSandboxActivities().runGenerator({ draftDir });
    entry.status = 'write';
    usage = addUsage(usage, (await roles.writeSynthetic({ draftDir, dnaFile, taskId, rows, provider })).usage);
    entry.status = 'verify';
    const verification = await verifyPackageDir(draftDir, { provider, ladder });
    usage = addUsage(usage, verification.usage);
    scores = {
      trivial: verification.report.scores?.trivial,
      baseline: verification.report.scores?.baseline,
      references: {},
    };
    const prepared = verification.report.checks.some((c) => c.name === 'prepare.runs' && c.passed);
    if (prepared) {
      const refs = await synthSandboxActivities().runReferences({ packageDir: draftDir });
      scores = { ...scores, references: refs.references, oracle: refs.oracle };
    }
    thresholds = undefined;
    if (baselineScores(scores).length > 0 && scores.oracle !== undefined) {
      const mlops = await roles.synthThresholds({ dnaFile, scores, provider });
      thresholds = mlops.thresholds;
      usage = addUsage(usage, mlops.usage);
    }
    const synth = await synthPackageActivities.checkSynthetic({
      draftDir,
      dnaFile,
      rows,
      scores,
      thresholds,
      generator,
    });
    const checks = [...verification.report.checks, ...synth];
    report = {
      status: verdictOf(checks),
      checks,
      scores: verification.report.scores,
      ladder: verification.report.ladder,
      synth: { scores, thresholds },
    };
    rounds += 1;
    await catalogActivities.writeReport({
      packageDir: draftDir,
      report,
      provenance: { workflowId: workflowInfo().workflowId, provider, model: draft.model, rounds, usage },
      thresholds,
    });
    failed = checks.filter((c) => !c.passed);
    if (report.status === 'verified') break;
  }
  const verified = report?.status === 'verified';
  let path = draftDir ?? '';
  if (verified) {
    entry.status = 'publish';
    path = await catalogActivities.publishTask({ packageDir: draftDir!, catalogDir });
  }
  entry.status = verified ? 'verified' : 'rejected';
  return {
    id: taskId,
    status: verified ? 'verified' : 'rejected',
    path,
    rows,
    scores,
    thresholds,
    failedChecks: failed.map((c) => c.name),
    rounds,
    usage,
  };
}
