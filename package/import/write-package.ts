import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { METRICS } from '../../domain/metrics';
import { TASK_ID_PATTERN, TASK_SCHEMA, taskManifestSchema, type TaskManifest } from '../../domain/task';
import { writePackageFiles } from '../files';
import { LAYOUT, packagePaths } from '../layout';
import { writeLeaderboard } from '../leaderboard';
import { writeManifest } from '../manifest';
import { makeReadable } from '../permissions';
import { ImportError } from './import-error';
import { metricFacts } from './metric-facts';
import { placeholderBaseline, PLACEHOLDER_BASELINE_WARNING } from './placeholder-baseline';
import { distinctTargetValues, inferModality, listRawFiles, resolveRawDir } from './raw-data';
import { slugify } from './naming';
import { submissionColumns } from './submission-columns';
import type { ConvertedCompetition, ImportOptions, ImportResult } from './types';

const RESOURCES = { cpus: 1, memoryMb: 2048, gpu: false, timeLimitS: 600 };

/** The manifest of the converted competition, inferred where `opts` leave it open, and validated. */
async function inferManifest(
  converted: ConvertedCompetition,
  opts: ImportOptions,
  taskId: string,
  rawFiles: string[],
  warnings: string[],
): Promise<TaskManifest> {
  const { competitionId, metric } = converted;
  const header = submissionColumns(converted.description);
  const idColumn = opts.idColumn ?? header?.[0];
  const target = opts.target ?? header?.[1];
  if (!idColumn || !target) {
    throw new ImportError(
      `the description of ${competitionId} shows no submission format ` +
        '(a "Submission File" or "Submission Format" section with a CSV header in a code block): ' +
        'pass target and idColumn (--target, --id-column)',
    );
  }
  if (header && header.length > 2 && !opts.target) {
    const shown = `${header.slice(1, 6).join(', ')}${header.length > 6 ? ', …' : ''}`;
    warnings.push(
      `the submission has ${header.length - 1} prediction columns (${shown}); ` +
        `${LAYOUT.manifest} names the first, ${target}, as the target: pass target to choose another`,
    );
  }

  const facts = metricFacts(metric.name);
  const known = facts.known && METRICS[facts.known];
  if (known && known.higherIsBetter !== metric.higherIsBetter) {
    const way = (higher: boolean) => (higher ? 'higher' : 'lower');
    warnings.push(
      `metric ${metric.name} is usually ${way(known.higherIsBetter)}-is-better, ` +
        `but the source says ${way(metric.higherIsBetter)}-is-better; ${LAYOUT.manifest} follows the source`,
    );
  }
  let taskType = opts.taskType ?? facts.taskType ?? 'other';
  if (!opts.taskType && (taskType === 'binary-classification' || taskType === 'multiclass-classification')) {
    const classes = await distinctTargetValues(rawFiles, target);
    if (classes !== undefined && classes >= 2) {
      taskType = classes === 2 ? 'binary-classification' : 'multiclass-classification';
    }
  }
  if (!opts.taskType && !facts.taskType) {
    warnings.push(
      `metric ${metric.name} does not say what kind of task this is: taskType is 'other'; pass taskType to set it`,
    );
  }

  const manifest = {
    schema: TASK_SCHEMA,
    id: taskId,
    title: converted.title,
    taskType,
    modality: inferModality(rawFiles),
    target,
    idColumn,
    metric: { name: metric.name, higherIsBetter: metric.higherIsBetter, ...(known ? { bounds: known.bounds } : {}) },
    resources: RESOURCES,
    source: { kind: converted.kind, competition: competitionId },
  } satisfies TaskManifest;
  const checked = taskManifestSchema.safeParse(manifest);
  if (!checked.success) {
    const why = z.prettifyError(checked.error);
    throw new ImportError(
      `the ${LAYOUT.manifest} made for ${competitionId} is not valid (${why}): pass options that fix it`,
    );
  }
  return checked.data;
}

/**
 * Writes outDir/<taskId>: the manifest (inferred where opts leave it open, validated), the
 * description, the converted prepare.py and metric.py, a placeholder baseline, the leaderboard
 * and a copy of the raw data. Everything is checked before the first file is written.
 */
export async function writeImportedPackage(
  competitionDir: string,
  converted: ConvertedCompetition,
  opts: ImportOptions,
): Promise<ImportResult> {
  const warnings = [...converted.warnings];
  const taskId = opts.taskId ?? slugify(converted.competitionId);
  if (!TASK_ID_PATTERN.test(taskId)) {
    throw new ImportError(
      `task id "${taskId}" is not 2-80 lowercase letters, digits and dashes: pass a taskId (--id) that is`,
    );
  }
  const rawDir = await resolveRawDir(competitionDir, converted, opts.rawDir);
  const packageDir = resolve(opts.outDir, taskId);
  const existing: string[] = await readdir(packageDir).catch(() => []);
  if (existing.length > 0) {
    throw new ImportError(`${packageDir} already exists and is not empty: remove it, or pass another outDir or taskId`);
  }

  const manifest = await inferManifest(converted, opts, taskId, await listRawFiles(rawDir), warnings);
  if (converted.leaderboard.length === 0) {
    warnings.push(
      `the source has no scored leaderboard rows: ${LAYOUT.leaderboard} has no human entries, ` +
        'so rewards fall back to the reference entries',
    );
  }
  warnings.push(PLACEHOLDER_BASELINE_WARNING);

  await mkdir(packageDir, { recursive: true });
  try {
    await writePackageFiles(packageDir, {
      [LAYOUT.description]: converted.description,
      [LAYOUT.prepare]: converted.prepareCode,
      [LAYOUT.metric]: converted.metricCode,
      [LAYOUT.baseline]: placeholderBaseline(manifest.idColumn, manifest.taskType),
    });
    await writeManifest(packageDir, manifest);
    await writeLeaderboard(
      packageDir,
      converted.leaderboard.map((e) => ({ ...e, kind: 'human' })),
    );
    // dereference: the package gets the files, never links into the source's checkout
    await cp(rawDir, packagePaths(packageDir).raw, { recursive: true, dereference: true });
    await makeReadable(packageDir);
  } catch (err) {
    await rm(packageDir, { recursive: true, force: true });
    throw err;
  }
  return { packageDir, taskId, warnings };
}
