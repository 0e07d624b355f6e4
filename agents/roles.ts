import { z } from 'zod';
import type { DatasetProfile } from '../domain/profile';
import type { TaskProposal } from '../domain/proposal';
import { type PackageFiles, packageFilesSchema, type TaskManifest } from '../domain/task';
import type { CheckResult } from '../domain/verification';
import type { Usage } from '../domain/usage';

/**
 * The Forge's agent roles. Every provider (heuristic, openai) implements the same functions with
 * the same zod-validated outputs; activities do the file I/O around them.
 */

export const designSchema = z.object({
  files: packageFilesSchema,
  /** decisions the next repair round builds on (free-form, provider-specific) */
  notes: z.record(z.string(), z.unknown()),
});
export type Design = z.infer<typeof designSchema>;

export interface BrainstormInput {
  profile: DatasetProfile;
  maxTasks: number;
}

export interface DesignInput {
  profile: DatasetProfile;
  proposal: TaskProposal;
  /** 0 for the first design; later rounds repair the previous one */
  round: number;
  /** the previous round's design and its failed checks */
  previous?: { design: Design; failed: CheckResult[] };
  /** a design in progress: the conversation so far and the outputs of the code it asked to run */
  resume?: { conversation: unknown[]; toolResults: ToolResult[] };
  /** whether the provider may still ask to run code (false once the budget is spent) */
  toolsAllowed?: boolean;
}

/** Code a role asks to run in the sandbox (as an anvil-cpu activity) before it answers. */
export interface ToolCall {
  id: string;
  code: string;
}
export interface ToolResult {
  id: string;
  output: string;
}
/** A role's answer that is not final yet: run these, then resume with their results. */
export interface ToolRequest {
  toolCalls: ToolCall[];
  conversation: unknown[];
}

export interface ReviewInput {
  manifest: TaskManifest;
  description: string;
  /** header of public/train.csv and public/test.csv */
  trainColumns: string[];
  testColumns: string[];
  /** classification: rows per label of the target in public/train.csv */
  targetCounts?: Record<string, number>;
  profile?: DatasetProfile;
}

export const reviewSchema = z.array(
  z.object({ name: z.string(), passed: z.boolean(), detail: z.string(), evidence: z.unknown().optional() }),
);

export interface AgentProvider {
  readonly name: string;
  /** tokens and cost spent so far by this instance (zero for providers without a model) */
  readonly usage: Usage;
  brainstorm(input: BrainstormInput): Promise<TaskProposal[]>;
  design(input: DesignInput): Promise<Design | ToolRequest>;
  /** normalises a package to the v1 layout */
  refactor(files: PackageFiles): Promise<PackageFiles>;
  review(input: ReviewInput): Promise<CheckResult[]>;
}
