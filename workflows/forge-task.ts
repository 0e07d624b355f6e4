import { defineQuery, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { TaskProposal } from '../domain/proposal';
import type { ProviderName } from '../domain/providers';
import type { ForgedTask, TaskProgress } from '../domain/forge';
import { SEARCH } from '../domain/search-attributes';
import { addUsage, NO_USAGE, type Usage } from '../domain/usage';
import type { CheckResult, VerificationReport } from '../domain/verification';
import { catalogActivities, roleActivities, verificationActivities } from './activity-proxies';
import { verifyPackageDir } from './verification';

export interface ForgeTaskInput {
  forgeId: string;
  profileFile: string;
  proposal: TaskProposal;
  provider: ProviderName;
  /** rounds after the first design that may repair failed checks */
  repairRounds: number;
  catalogDir: string;
  /** code runs the Designer may ask for per design */
  designerToolSteps: number;
  /** run the reference ladder once execution passes (the CLI: config forge.ladder); absent = no ladder */
  ladder?: boolean;
}

export const taskProgressQuery = defineQuery<TaskProgress>('taskProgress');

/**
 * One proposal to a published task: Designer → Refactorer → verification; a failed verification
 * goes back to the Designer with its evidence, up to `repairRounds` times, then the task is
 * rejected. Every round's draft and report stay in the artifact store.
 */
export async function forgeTask(input: ForgeTaskInput): Promise<ForgedTask> {
  const { proposal, provider } = input;
  const roles = roleActivities();
  const progress: TaskProgress = { stage: 'design', round: 0 };
  setHandler(taskProgressQuery, () => progress);
  const stage = (s: TaskProgress['stage']) => {
    progress.stage = s;
    upsertSearchAttributes([{ key: SEARCH.stage, value: s }]);
  };
  upsertSearchAttributes([{ key: SEARCH.taskId, value: proposal.id }]);

  let draftDir: string | undefined;
  let failed: CheckResult[] = [];
  let report: VerificationReport | undefined;
  let verifications = 0;
  let usage: Usage = NO_USAGE;
  for (let round = 0; round <= input.repairRounds; round++) {
    progress.round = round;
    stage('design');
    const draft = { forgeId: input.forgeId, taskId: proposal.id, round };
    const ask = (
      resume?: { conversationFile: string; toolResults: { id: string; output: string }[] },
      toolsAllowed = true,
    ) =>
      roles.design({
        profileFile: input.profileFile,
        proposal,
        draft,
        previousDraftDir: draftDir,
        failed,
        provider,
        resume,
        toolsAllowed,
      });
    let design = await ask();
    usage = addUsage(usage, design.usage);
    // The Designer may run code (each run an anvil-cpu activity) before it answers, within a budget.
    for (let step = 1; design.toolCalls?.length; step++) {
      const calls = design.toolCalls;
      const toolResults = await Promise.all(
        calls.map(async (c) => ({
          id: c.id,
          output: await verificationActivities().runDesignerCode({ profileFile: input.profileFile, code: c.code }),
        })),
      );
      design = await ask({ conversationFile: design.conversationFile!, toolResults }, step < input.designerToolSteps);
      usage = addUsage(usage, design.usage);
    }
    if (design.giveUp || !design.draftDir) break; // the Designer knows no repair: the last report stands
    draftDir = design.draftDir;
    stage('refactor');
    usage = addUsage(usage, (await roles.refactor({ draftDir, provider })).usage);
    stage('verify');
    const verification = await verifyPackageDir(draftDir, {
      provider,
      profileFile: input.profileFile,
      ladder: input.ladder,
    });
    report = verification.report;
    usage = addUsage(usage, verification.usage);
    verifications += 1;
    await catalogActivities.writeReport({
      packageDir: draftDir,
      report,
      provenance: { workflowId: workflowInfo().workflowId, provider, model: design.model, rounds: round + 1, usage },
    });
    failed = report.checks.filter((c) => !c.passed);
    if (report.status === 'verified') break;
  }

  const verified = report?.status === 'verified';
  let path = draftDir ?? '';
  if (verified) {
    stage('publish');
    path = await catalogActivities.publishTask({ packageDir: draftDir!, catalogDir: input.catalogDir });
  }
  stage(verified ? 'verified' : 'rejected');
  upsertSearchAttributes([{ key: SEARCH.verdict, value: verified ? 'verified' : 'rejected' }]);
  return {
    id: proposal.id,
    status: verified ? 'verified' : 'rejected',
    path,
    metric: proposal.metric,
    scores: report?.scores ?? {},
    failedChecks: failed.map((c) => c.name),
    rounds: verifications,
    usage,
  };
}
