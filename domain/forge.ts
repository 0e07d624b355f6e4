import type { MetricSpec } from './task';
import type { Usage } from './usage';
import type { Verdict } from './verification';

/** One task's outcome, as `anvil forge --json` prints it. */
export interface ForgedTask {
  id: string;
  status: Verdict;
  /** the catalog folder when verified; the last draft (kept in the artifact store) when rejected */
  path: string;
  metric: MetricSpec;
  scores: { trivial?: number; baseline?: number };
  failedChecks: string[];
  rounds: number;
  /** LLM tokens and cost of this task's roles */
  usage: Usage;
}

export interface ForgeResult {
  workflowId: string;
  dataset: string;
  tasks: ForgedTask[];
  /** summed over the Brainstormer and every task */
  usage: Usage;
}

/** Live state of a forge, for the CLI's progress lines (workflow queries). */
export interface ForgeProgress {
  stage: 'intake' | 'brainstorm' | 'tasks' | 'done';
  tasks: { id: string; workflowId: string; status: 'pending' | 'running' | Verdict }[];
}

export interface TaskProgress {
  stage: 'design' | 'refactor' | 'verify' | 'publish' | Verdict;
  round: number;
}
