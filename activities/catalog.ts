import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { parse } from 'csv-parse/sync';
import { PROMPTS_DIRS } from '../agents/providers';
import type { ProviderName } from '../domain/providers';
import type { MedalThresholds } from '../domain/rewards';
import type { Usage } from '../domain/usage';
import type { VerificationReport } from '../domain/verification';
import { readManifest } from './verification';

/** Files of a package that verification makes; a staged copy starts without them. (leaderboard.csv stays: its human entries are kept.) */
const MADE_BY_VERIFICATION = new Set(['public', 'private', 'verification.json', 'design.json']);

/**
 * leaderboard.csv: the reference scores verification measured, after the human entries an
 * imported competition brought (kind `human`, with their board), which are kept as they were.
 */
async function writeLeaderboard(packageDir: string, scores: Record<string, number | undefined>, thresholds?: MedalThresholds): Promise<void> {
  const file = join(packageDir, 'leaderboard.csv');
  const old = await readFile(file, 'utf8').catch(() => '');
  const rows = old ? (parse(old, { columns: true, skip_empty_lines: true }) as Record<string, string>[]) : [];
  const field = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const human = rows.filter((r) => r.kind === 'human').map((r) => `${field(r.entry ?? '')},${r.score},human,${field(r.board || 'public')}`);
  const reference = Object.entries(scores)
    .filter(([, s]) => s !== undefined)
    .map(([name, s]) => `${name},${s},reference${human.length ? ',' : ''}`);
  // A synthetic task's medal thresholds (the MLOps role's), which the Dojo's medal rewards use.
  const medals = Object.entries(thresholds ?? {}).map(([name, s]) => `${name},${s},threshold${human.length ? ',' : ''}`);
  const header = human.length ? 'entry,score,kind,board' : 'entry,score,kind';
  await writeFile(file, `${[header, ...human, ...reference, ...medals].join('\n')}\n`);
}

async function makeReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeReadable(path);
    else await chmod(path, 0o644);
  }
}

async function hashDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) hash.update(name).update(await readFile(join(dir, name)));
  return hash.digest('hex').slice(0, 16);
}

export interface Provenance {
  workflowId: string;
  provider: ProviderName;
  model?: string;
  rounds?: number;
  usage?: Usage;
}

/** Control-queue activities: package folders in the artifact store and the catalog. */
export function createCatalogActivities({ artifactsDir }: { artifactsDir: string }) {
  return {
    /** Copies a package someone wrote into the artifact store, for verification to work on; returns the copy. */
    async stagePackage({ sourceDir, key }: { sourceDir: string; key: string }): Promise<string> {
      const packageDir = join(artifactsDir, 'verify', key.replace(/[^A-Za-z0-9_.-]+/g, '_'));
      const info = await stat(sourceDir).catch(() => undefined);
      if (!info?.isDirectory()) throw ApplicationFailure.nonRetryable(`${sourceDir} is not a folder: pass the task package's folder (the one holding task.json)`, 'BadPackage');
      await rm(packageDir, { recursive: true, force: true });
      await cp(sourceDir, packageDir, { recursive: true, filter: (src) => src === sourceDir || !MADE_BY_VERIFICATION.has(src.slice(sourceDir.length + 1)) });
      await makeReadable(packageDir); // the sandbox user must read it
      return packageDir;
    },

    /** verification.json, leaderboard.csv, and the summary, scores and provenance in task.json. */
    async writeReport({ packageDir, report, provenance, thresholds }: { packageDir: string; report: VerificationReport; provenance: Provenance; thresholds?: MedalThresholds }): Promise<void> {
      await writeFile(join(packageDir, 'verification.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeLeaderboard(packageDir, report.scores ?? {}, thresholds);
      const raw = await readFile(join(packageDir, 'task.json'), 'utf8').catch(() => undefined);
      let manifest: Record<string, unknown>;
      try {
        manifest = raw ? JSON.parse(raw) : undefined;
      } catch {
        return; // a broken task.json is already a failed check; leave the author's file alone
      }
      if (!manifest || typeof manifest !== 'object') return;
      manifest.provenance = { ...provenance, promptsHash: await hashDir(PROMPTS_DIRS[provenance.provider]) };
      manifest.verification = { status: report.status, failed: report.checks.filter((c) => !c.passed).map((c) => c.name), checks: report.checks.length };
      manifest.referenceScores = report.scores;
      await writeFile(join(packageDir, 'task.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    },

    /**
     * Publishes a verified package as `<catalog>/<id>`: copied under a hidden staging name, then
     * renamed into place, so the catalog never shows a half-written task. Returns its path.
     */
    async publishTask({ packageDir, catalogDir }: { packageDir: string; catalogDir: string }): Promise<string> {
      const { id } = await readManifest(packageDir);
      await mkdir(catalogDir, { recursive: true });
      // What an attempt killed mid-copy left behind (never visible: hidden names).
      for (const leftover of (await readdir(catalogDir)).filter((n) => n.startsWith(`.staging-${id}-`) || n.startsWith(`.old-${id}-`))) {
        await rm(join(catalogDir, leftover), { recursive: true, force: true });
      }
      const staging = join(catalogDir, `.staging-${id}-${randomUUID().slice(0, 8)}`);
      await cp(packageDir, staging, { recursive: true, filter: (src) => !src.endsWith('/design.json') });
      const target = join(catalogDir, id);
      const old = join(catalogDir, `.old-${id}-${randomUUID().slice(0, 8)}`);
      if (existsSync(target)) await rename(target, old);
      await rename(staging, target);
      await rm(old, { recursive: true, force: true });
      return target;
    },
  };
}

export type CatalogActivities = ReturnType<typeof createCatalogActivities>;
