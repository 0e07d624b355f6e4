import { copyFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { parse } from 'csv-parse/sync';
import { providerFor } from '../agents/providers';
import { type Design, designSchema, reviewSchema, type ToolCall, type ToolResult } from '../agents/roles';
import type { AnvilConfig } from '../config';
import type { DatasetProfile } from '../domain/profile';
import { proposalsSchema, type TaskProposal } from '../domain/proposal';
import type { ProviderName } from '../domain/providers';
import { type PackageFiles, packageFilesSchema } from '../domain/task';
import type { Usage } from '../domain/usage';
import type { CheckResult } from '../domain/verification';
import { readPackageFiles, writePackageFiles } from '../package/files';
import { LAYOUT, packagePaths } from '../package/layout';
import { readManifest } from '../package/manifest';
import { IMAGES_DIR } from './intake/images';

async function readProfile(profileFile: string): Promise<DatasetProfile> {
  return JSON.parse(await readFile(profileFile, 'utf8')) as DatasetProfile;
}

async function readCsv(file: string): Promise<{ columns: string[]; rows: Record<string, string>[] }> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const header = parse(text.split('\n', 1)[0] ?? '') as string[][];
  return { columns: header[0] ?? [], rows };
}

function countValues(rows: Record<string, string>[], column: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row[column]!] = (counts[row[column]!] ?? 0) + 1;
  return counts;
}

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

export interface DraftKey {
  forgeId: string;
  taskId: string;
  round: number;
}

export interface DesignStepResult {
  /** the draft, once the Designer answered with a design */
  draftDir?: string;
  giveUp?: string;
  /** code the Designer asks to run first (then call design again with the results) */
  toolCalls?: ToolCall[];
  conversationFile?: string;
  usage: Usage;
  /** the model behind the Designer, for provenance (none for the heuristic provider) */
  model?: string;
}

/**
 * LLM-queue activities: the Forge's agent roles, with the package files on disk around them. The
 * endpoint's settings (and key) stay with the worker; workflows only name the provider.
 */
export function createRoleActivities({ artifactsDir, llm }: { artifactsDir: string; llm: AnvilConfig['llm'] }) {
  const provider = (name: ProviderName) => providerFor(name, llm, join(artifactsDir, 'llm-failures'));
  /** Each round of each task of each forge gets its own draft folder; nothing is overwritten. */
  const draftDir = (d: DraftKey) =>
    join(
      artifactsDir,
      'forge',
      ...[d.forgeId, d.taskId, `round-${d.round}`].map((p) => p.replace(/[^A-Za-z0-9_.-]+/g, '_')),
    );
  return {
    async brainstorm({
      profileFile,
      maxTasks,
      provider: name,
    }: {
      profileFile: string;
      maxTasks: number;
      provider: ProviderName;
    }): Promise<{ proposals: TaskProposal[]; usage: Usage }> {
      const p = provider(name);
      const proposals = validated(
        'Brainstormer',
        proposalsSchema,
        await p.brainstorm({ profile: await readProfile(profileFile), maxTasks }),
      ).slice(0, maxTasks);
      return { proposals, usage: p.usage };
    },

    /**
     * One step of the Designer. With a design, writes a fresh draft: its files, the dataset as its
     * raw table, and its design notes for the next repair round. With tool calls, keeps the conversation
     * beside the draft and returns them; the workflow runs them and calls again with the results.
     */
    async design(input: {
      profileFile: string;
      proposal: TaskProposal;
      draft: DraftKey;
      previousDraftDir?: string;
      failed?: CheckResult[];
      provider: ProviderName;
      resume?: { conversationFile: string; toolResults: ToolResult[] };
      toolsAllowed: boolean;
    }): Promise<DesignStepResult> {
      const dir = draftDir(input.draft);
      const profile = await readProfile(input.profileFile);
      let previous: { design: Design; failed: CheckResult[] } | undefined;
      if (input.previousDraftDir) {
        const notesFile = packagePaths(input.previousDraftDir).designNotes;
        const notes = JSON.parse(await readFile(notesFile, 'utf8')) as Design['notes'];
        const files = await readPackageFiles(input.previousDraftDir);
        delete files[LAYOUT.designNotes];
        previous = { design: { files, notes }, failed: input.failed ?? [] };
      }
      const resume = input.resume
        ? {
            conversation: JSON.parse(await readFile(input.resume.conversationFile, 'utf8')) as unknown[],
            toolResults: input.resume.toolResults,
          }
        : undefined;
      const p = provider(input.provider);
      const step = await p.design({
        profile,
        proposal: input.proposal,
        round: input.draft.round,
        previous,
        resume,
        toolsAllowed: input.toolsAllowed,
      });
      if ('toolCalls' in step) {
        const conversationFile = `${dir}.conversation.json`;
        await mkdir(join(dir, '..'), { recursive: true });
        await writeFile(conversationFile, JSON.stringify(step.conversation));
        return { toolCalls: step.toolCalls, conversationFile, usage: p.usage };
      }
      const design = validated('Designer', designSchema, step);
      await rm(dir, { recursive: true, force: true });
      const draft = packagePaths(dir);
      await mkdir(draft.raw, { recursive: true });
      await copyFile(profile.dataFile, draft.rawTable);
      // an image dataset's images lie beside its data.csv, which names them by relative path
      if (profile.images)
        await cp(join(dirname(profile.dataFile), IMAGES_DIR), join(draft.raw, IMAGES_DIR), { recursive: true });
      await writePackageFiles(dir, design.files);
      await writeFile(draft.designNotes, JSON.stringify(design.notes, null, 2));
      return {
        draftDir: dir,
        giveUp: typeof design.notes.giveUp === 'string' ? design.notes.giveUp : undefined,
        usage: p.usage,
        model: input.provider === 'openai' ? (llm.models.designer ?? llm.model) : undefined,
      };
    },

    /** The Refactorer normalises the draft's files to the v1 layout, in place. */
    async refactor({
      draftDir: dir,
      provider: name,
    }: {
      draftDir: string;
      provider: ProviderName;
    }): Promise<{ usage: Usage }> {
      const files: PackageFiles = await readPackageFiles(dir);
      const notes = files[LAYOUT.designNotes];
      delete files[LAYOUT.designNotes];
      const p = provider(name);
      const normalised = validated('Refactorer', packageFilesSchema, await p.refactor(files));
      await writePackageFiles(dir, notes === undefined ? normalised : { ...normalised, [LAYOUT.designNotes]: notes });
      return { usage: p.usage };
    },

    /** The Reviewer's rubric verdicts on a prepared package. */
    async review({
      packageDir,
      profileFile,
      provider: name,
    }: {
      packageDir: string;
      profileFile?: string;
      provider: ProviderName;
    }): Promise<{ checks: CheckResult[]; usage: Usage }> {
      const manifest = await readManifest(packageDir);
      const files = packagePaths(packageDir);
      const train = await readCsv(files.train);
      const p = provider(name);
      const checks = await p.review({
        manifest,
        description: await readFile(files.description, 'utf8').catch(() => ''),
        trainColumns: train.columns,
        testColumns: (await readCsv(files.test)).columns,
        targetCounts:
          manifest.taskType.endsWith('classification') && train.columns.includes(manifest.target)
            ? countValues(train.rows, manifest.target)
            : undefined,
        profile: profileFile ? await readProfile(profileFile) : undefined,
      });
      return { checks: validated('Reviewer', reviewSchema, checks), usage: p.usage };
    },
  };
}

export type RoleActivities = ReturnType<typeof createRoleActivities>;
