import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { synthProviderFor } from '../agents/providers';
import { type SynthDesign, synthDesignSchema, thresholdsSchema, writingSchema } from '../agents/synth-roles';
import type { AnvilConfig } from '../config';
import type { ProviderName } from '../domain/providers';
import type { MedalThresholds } from '../domain/rewards';
import { dnaSchema, type SeedFacts, type SynthScores, type TaskDna } from '../domain/synth';
import { TASK_SCHEMA } from '../domain/task';
import type { Usage } from '../domain/usage';
import type { CheckResult } from '../domain/verification';
import { readPackageFiles, writePackageFiles } from '../package/files';
import { LAYOUT, packagePaths } from '../package/layout';
import { writeManifest } from '../package/manifest';

/** What others write into a Synth draft, which the ML Developer does not (its design notes aside). */
const NOT_DEVELOPED = [
  LAYOUT.designNotes,
  LAYOUT.manifest,
  LAYOUT.description,
  LAYOUT.verification,
  LAYOUT.leaderboard,
];

/** A role's output that fails its schema is a bug in the provider: retrying gives the same. */
function validated<T>(
  role: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `${role} returned output that does not match its schema: ${parsed.error.message}`,
      'InvalidRoleOutput',
    );
  return parsed.data;
}

export async function readDna(dnaFile: string): Promise<TaskDna> {
  return dnaSchema.parse(JSON.parse(await readFile(dnaFile, 'utf8')));
}

/** The ML Developer's schema, rule and notes beside its draft (never published). */
export async function readDesign(draftDir: string): Promise<Omit<SynthDesign, 'files'>> {
  return JSON.parse(await readFile(packagePaths(draftDir).designNotes, 'utf8')) as Omit<SynthDesign, 'files'>;
}

export interface SynthDraftKey {
  synthId: string;
  taskId: string;
  round: number;
}

/**
 * LLM-queue activities: Synth's four roles, with the DNA and the drafts on disk around them. The
 * workflow passes paths; the endpoint's settings stay with the worker.
 */
export function createSynthRoleActivities({ artifactsDir, llm }: { artifactsDir: string; llm: AnvilConfig['llm'] }) {
  const provider = (name: ProviderName) => synthProviderFor(name, llm, join(artifactsDir, 'llm-failures'));
  const modelOf = (name: ProviderName, role: 'strategist' | 'developer' | 'mlops' | 'writer') =>
    name === 'openai' ? (llm.models[role] ?? llm.model) : undefined;
  return {
    /** Data Strategist: the seed's facts (seed.json) → its DNA, written to dna.json beside them. */
    async extractSynthDna({
      seedFile,
      provider: name,
    }: {
      seedFile: string;
      provider: ProviderName;
    }): Promise<{ dnaFile: string; usage: Usage }> {
      const seed = JSON.parse(await readFile(seedFile, 'utf8')) as SeedFacts;
      const p = provider(name);
      const dna = validated('Data Strategist', dnaSchema, await p.extractDna(seed));
      const dnaFile = join(dirname(seedFile), 'dna.json');
      await writeFile(dnaFile, `${JSON.stringify(dna, null, 2)}\n`);
      return { dnaFile, usage: p.usage };
    },

    /**
     * ML Developer: one draft per round in its own folder (nothing is overwritten): generator.py,
     * prepare.py, metric.py, solutions/, and design.json (schema, rule, notes for the next round).
     */
    async developSynthetic(input: {
      dnaFile: string;
      rows: { train: number; test: number };
      draft: SynthDraftKey;
      previousDraftDir?: string;
      failed?: CheckResult[];
      provider: ProviderName;
    }): Promise<{ draftDir: string; giveUp?: string; usage: Usage; model?: string }> {
      const { synthId, taskId, round } = input.draft;
      const dir = join(
        artifactsDir,
        'synth',
        ...[synthId, taskId, `round-${round}`].map((s) => s.replace(/[^A-Za-z0-9_.-]+/g, '_')),
      );
      let previous: { design: SynthDesign; failed: CheckResult[] } | undefined;
      if (input.previousDraftDir) {
        const files = await readPackageFiles(input.previousDraftDir);
        for (const made of NOT_DEVELOPED) delete files[made];
        previous = { design: { ...(await readDesign(input.previousDraftDir)), files }, failed: input.failed ?? [] };
      }
      const p = provider(input.provider);
      const design = validated(
        'ML Developer',
        synthDesignSchema,
        await p.develop({ dna: await readDna(input.dnaFile), taskId, rows: input.rows, round, previous }),
      );
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writePackageFiles(dir, design.files);
      const notes = { schema: design.schema, rule: design.rule, notes: design.notes };
      await writeFile(packagePaths(dir).designNotes, `${JSON.stringify(notes, null, 2)}\n`);
      const giveUp = typeof design.notes.giveUp === 'string' ? design.notes.giveUp : undefined;
      return { draftDir: dir, giveUp, usage: p.usage, model: modelOf(input.provider, 'developer') };
    },

    /**
     * Writer: description.md from the public schema alone (the rule is not passed), and task.json:
     * the DNA's task type, modality and metric, the Writer's title, the synthetic mark.
     */
    async writeSynthetic({
      draftDir,
      dnaFile,
      taskId,
      rows,
      provider: name,
    }: {
      draftDir: string;
      dnaFile: string;
      taskId: string;
      rows: { train: number; test: number };
      provider: ProviderName;
    }): Promise<{ usage: Usage }> {
      const dna = await readDna(dnaFile);
      const { schema } = await readDesign(draftDir);
      const p = provider(name);
      const writing = validated(
        'Writer',
        writingSchema,
        await p.write({ taskId, taskType: dna.taskType, metric: dna.metric, schema, rows }),
      );
      const manifest = {
        schema: TASK_SCHEMA,
        id: taskId,
        title: writing.title,
        taskType: dna.taskType,
        modality: dna.modality,
        target: schema.target,
        idColumn: schema.idColumn,
        metric: dna.metric,
        resources: { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 300 },
        split: { method: dna.label ? 'stratified' : 'random', train: rows.train, test: rows.test },
        synthetic: { seedTaskId: dna.seedTaskId, rows, generator: LAYOUT.generator },
      };
      const description = writing.description.endsWith('\n') ? writing.description : `${writing.description}\n`;
      await writeFile(packagePaths(draftDir).description, description);
      await writeManifest(draftDir, manifest);
      return { usage: p.usage };
    },

    /** MLOps: medal thresholds from the reference scores. */
    async synthThresholds({
      dnaFile,
      scores,
      provider: name,
    }: {
      dnaFile: string;
      scores: SynthScores;
      provider: ProviderName;
    }): Promise<{ thresholds: MedalThresholds; usage: Usage }> {
      const { metric } = await readDna(dnaFile);
      const p = provider(name);
      return {
        thresholds: validated('MLOps', thresholdsSchema, await p.thresholds({ metric, scores })),
        usage: p.usage,
      };
    },
  };
}

export type SynthRoleActivities = ReturnType<typeof createSynthRoleActivities>;
