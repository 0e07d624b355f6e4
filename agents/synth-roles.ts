import { z } from 'zod';
import { FEATURE_KINDS, hiddenRuleSchema, type SeedFacts, type SynthScores, type TaskDna } from '../domain/synth';
import type { MedalThresholds } from '../domain/rewards';
import { packageFilesSchema } from '../domain/task';
import type { CheckResult } from '../domain/verification';
import type { Usage } from '../domain/usage';

/**
 * Synth's agent roles (Data Strategist, ML Developer, MLOps, Writer). Every provider implements
 * the same functions with the same zod-validated outputs; activities do the file I/O around them.
 */

/** The columns of the generated train.csv, as the ML Developer declares them (no rule in here). */
export const publicSchemaSchema = z.object({
  idColumn: z.string().min(1),
  target: z.string().min(1),
  columns: z.array(z.object({ name: z.string().min(1), kind: z.enum(FEATURE_KINDS) })).min(1),
  /** classification: the labels the target takes */
  classes: z.array(z.string()).optional(),
});
export type PublicSchema = z.infer<typeof publicSchemaSchema>;

export const synthDesignSchema = z.object({
  /** generator.py, prepare.py, metric.py, solutions/baseline.py and solutions/reference-*.py */
  files: packageFilesSchema,
  schema: publicSchemaSchema,
  rule: hiddenRuleSchema,
  /** decisions the next repair round builds on (free-form, provider-specific); `giveUp` ends the repairs */
  notes: z.record(z.string(), z.unknown()),
});
export type SynthDesign = z.infer<typeof synthDesignSchema>;

export const thresholdsSchema = z.object({
  gold: z.number(),
  silver: z.number(),
  bronze: z.number(),
  median: z.number(),
});

export const writingSchema = z.object({ title: z.string().min(1), description: z.string().min(1) });
export type Writing = z.infer<typeof writingSchema>;

export interface DevelopInput {
  dna: TaskDna;
  taskId: string;
  rows: { train: number; test: number };
  /** 0 for the first draft; later rounds repair the previous one */
  round: number;
  previous?: { design: SynthDesign; failed: CheckResult[] };
}

export interface ThresholdInput {
  metric: TaskDna['metric'];
  scores: SynthScores;
}

/** What the Writer sees: the public side only, never the rule or the generator. */
export interface WriteInput {
  taskId: string;
  taskType: TaskDna['taskType'];
  metric: TaskDna['metric'];
  schema: PublicSchema;
  rows: { train: number; test: number };
}

export interface SynthProvider {
  readonly name: string;
  readonly usage: Usage;
  /** Data Strategist */
  extractDna(seed: SeedFacts): Promise<TaskDna>;
  /** ML Developer */
  develop(input: DevelopInput): Promise<SynthDesign>;
  /** MLOps */
  thresholds(input: ThresholdInput): Promise<MedalThresholds>;
  /** Writer */
  write(input: WriteInput): Promise<Writing>;
}
