import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { parse } from 'csv-parse/sync';
import { type ProviderName, providerFor } from '../agents/providers';
import { type Design, designSchema, type PackageFiles, packageFilesSchema, proposalsSchema, reviewSchema, type TaskProposal } from '../agents/roles';
import type { DatasetProfile } from '../domain/profile';
import type { CheckResult } from '../domain/verification';
import { readPackageFiles, writePackageFiles } from './package-files';
import { readManifest } from './verification';

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
function validated<T>(role: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } }, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`${role} returned output that does not match its schema: ${parsed.error.message}`, 'InvalidRoleOutput');
  return parsed.data;
}

const DESIGN_FILE = 'design.json';

export interface DraftKey {
  forgeId: string;
  taskId: string;
  round: number;
}

/** LLM-queue activities: the Forge's agent roles, with the package files on disk around them. */
export function createRoleActivities({ artifactsDir }: { artifactsDir: string }) {
  /** Each round of each task of each forge gets its own draft folder; nothing is overwritten. */
  const draftDir = (d: DraftKey) => join(artifactsDir, 'forge', ...[d.forgeId, d.taskId, `round-${d.round}`].map((p) => p.replace(/[^A-Za-z0-9_.-]+/g, '_')));
  return {
    async brainstorm({ profileFile, maxTasks, provider }: { profileFile: string; maxTasks: number; provider: ProviderName }): Promise<TaskProposal[]> {
      const proposals = await providerFor(provider).brainstorm({ profile: await readProfile(profileFile), maxTasks });
      return validated('Brainstormer', proposalsSchema, proposals).slice(0, maxTasks);
    },

    /**
     * Writes a fresh draft: the Designer's files, raw/data.csv and design.json (its notes, for the
     * next repair round). Returns `giveUp` when the Designer knows no repair for the failures.
     */
    async design(input: { profileFile: string; proposal: TaskProposal; draft: DraftKey; previousDraftDir?: string; failed?: CheckResult[]; provider: ProviderName }): Promise<{ draftDir: string; giveUp?: string }> {
      const dir = draftDir(input.draft);
      const profile = await readProfile(input.profileFile);
      let previous: { design: Design; failed: CheckResult[] } | undefined;
      if (input.previousDraftDir) {
        const notes = JSON.parse(await readFile(join(input.previousDraftDir, DESIGN_FILE), 'utf8')) as Design['notes'];
        const files = await readPackageFiles(input.previousDraftDir);
        delete files[DESIGN_FILE];
        previous = { design: { files, notes }, failed: input.failed ?? [] };
      }
      const design = validated('Designer', designSchema, await providerFor(input.provider).design({ profile, proposal: input.proposal, round: input.draft.round, previous }));
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, 'raw'), { recursive: true });
      await copyFile(profile.dataFile, join(dir, 'raw', 'data.csv'));
      await writePackageFiles(dir, design.files);
      await writeFile(join(dir, DESIGN_FILE), JSON.stringify(design.notes, null, 2));
      return { draftDir: dir, giveUp: typeof design.notes.giveUp === 'string' ? design.notes.giveUp : undefined };
    },

    /** The Refactorer normalises the draft's files to the v1 layout, in place. */
    async refactor({ draftDir, provider }: { draftDir: string; provider: ProviderName }): Promise<void> {
      const files: PackageFiles = await readPackageFiles(draftDir);
      const notes = files[DESIGN_FILE];
      delete files[DESIGN_FILE];
      const normalised = validated('Refactorer', packageFilesSchema, await providerFor(provider).refactor(files));
      await writePackageFiles(draftDir, notes === undefined ? normalised : { ...normalised, [DESIGN_FILE]: notes });
    },

    /** The Reviewer's rubric verdicts on a prepared package. */
    async review({ packageDir, profileFile, provider }: { packageDir: string; profileFile?: string; provider: ProviderName }): Promise<CheckResult[]> {
      const manifest = await readManifest(packageDir);
      const train = await readCsv(join(packageDir, 'public', 'train.csv'));
      const checks = await providerFor(provider).review({
        manifest,
        description: await readFile(join(packageDir, 'description.md'), 'utf8').catch(() => ''),
        trainColumns: train.columns,
        testColumns: (await readCsv(join(packageDir, 'public', 'test.csv'))).columns,
        targetCounts: manifest.taskType.endsWith('classification') && train.columns.includes(manifest.target) ? countValues(train.rows, manifest.target) : undefined,
        profile: profileFile ? await readProfile(profileFile) : undefined,
      });
      return validated('Reviewer', reviewSchema, checks);
    },
  };
}

export type RoleActivities = ReturnType<typeof createRoleActivities>;
