import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TaskInfo } from '../../domain/env';
import { BadPackageError } from '../../package/errors';
import { LAYOUT, packagePaths } from '../../package/layout';
import { readLeaderboards } from '../../package/leaderboard';
import { hasManifest, readManifest } from '../../package/manifest';
import { isPrepared } from '../../package/prepared-data';
import { profileTable, type TableProfile } from '../intake/profile';
import { readTable } from '../intake/read-table';

const MAX_DESCRIPTION = 20_000;
const SAMPLE_LINES = 6;
/** train.csv is profiled up to this size; a bigger one from its head */
const MAX_PROFILED_BYTES = 64 * 1024 * 1024;

/**
 * The profile of train.csv; a file over MAX_PROFILED_BYTES is profiled from its head (its first
 * complete lines), and its row count is its line count when no field in the head spans lines.
 * Undefined when the head cannot be read as a table.
 */
async function profileTrain(
  file: string,
  bytes: number,
): Promise<{ rows?: number; profiledRows?: number; columns: TableProfile['columns'] } | undefined> {
  if (bytes <= MAX_PROFILED_BYTES) return profileTable((await readTable(file)).table);
  const head = join(await mkdtemp(join(tmpdir(), 'anvil-head-')), 'train.csv');
  try {
    const handle = await open(file);
    const buffer = Buffer.alloc(MAX_PROFILED_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_PROFILED_BYTES, 0).finally(() => handle.close());
    const text = buffer.subarray(0, buffer.lastIndexOf(0x0a, bytesRead - 1) + 1);
    await writeFile(head, text);
    const profile = profileTable((await readTable(head)).table);
    const headLines = text.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
    return {
      columns: profile.columns,
      profiledRows: profile.rows,
      rows: profile.rows === headLines - 1 ? (await lineCount(file)) - 1 : undefined,
    };
  } catch {
    return undefined;
  } finally {
    await rm(dirname(head), { recursive: true, force: true });
  }
}

async function lineCount(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (const b of chunk) if (b === 0x0a) lines += 1;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 0x0a ? lines : lines + 1;
}

/**
 * Refuses a package whose files the session reads (task.json, description.md, public/) include a
 * symbolic link: one could point at the answers (or any host file) and leak it through
 * request_info. Task packages are untrusted.
 */
async function refuseLinks(packageDir: string): Promise<void> {
  const paths = packagePaths(packageDir);
  const check = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      throw new BadPackageError(`${path} is a symbolic link: a published task holds regular files only; republish it`);
    }
    if (info?.isDirectory()) for (const name of await readdir(path)) await check(join(path, name));
  };
  for (const path of [paths.manifest, paths.description, paths.public]) await check(path);
}

/**
 * The public facts of a published task, as the session reads them once when it opens; a
 * BadPackageError when the folder holds no task, one that was never prepared, or one with links.
 */
export async function readTaskInfo(taskId: string, packageDir: string): Promise<TaskInfo> {
  const paths = packagePaths(packageDir);
  if (!hasManifest(packageDir)) {
    const list = 'list the tasks with `anvil tasks list` or GET /v1/tasks';
    throw new BadPackageError(`no task "${taskId}" in the catalog (${packageDir} has no ${LAYOUT.manifest}): ${list}`);
  }
  await refuseLinks(packageDir);
  const manifest = await readManifest(packageDir);
  if (!isPrepared(packageDir)) {
    const how = `verify it first (\`anvil verify ${packageDir}\`) or publish it through the Forge or \`anvil import\``;
    const missing = `${LAYOUT.public}/ data or ${LAYOUT.answers}`;
    throw new BadPackageError(`task "${taskId}" at ${packageDir} has no ${missing}: ${how}`);
  }
  const publicDir = paths.public;
  const files = await Promise.all(
    (await readdir(publicDir)).sort().map(async (name) => ({ name, bytes: (await stat(join(publicDir, name))).size })),
  );
  const train = files.find((f) => join(publicDir, f.name) === paths.train);
  let columns: TaskInfo['columns'] = [];
  let trainRows: number | undefined;
  let profiledRows: number | undefined;
  if (train) {
    const profile = await profileTrain(paths.train, train.bytes);
    trainRows = profile?.rows;
    profiledRows = profile?.profiledRows;
    columns =
      profile?.columns.map(({ name, kind, missing, distinct, top, stats }) => ({
        name,
        kind,
        missing,
        distinct,
        top: top?.slice(0, 10),
        stats,
      })) ?? [];
  }
  const sample = await readFile(paths.sampleSubmission, 'utf8').catch(() => '');
  return {
    taskId,
    packageDir,
    title: manifest.title,
    taskType: manifest.taskType,
    target: manifest.target,
    idColumn: manifest.idColumn,
    metric: manifest.metric,
    resources: {
      cpus: manifest.resources.cpus,
      memoryMb: manifest.resources.memoryMb,
      gpu: manifest.resources.gpu,
      timeLimitS: manifest.resources.timeLimitS,
    },
    description: (await readFile(paths.description, 'utf8').catch(() => '')).slice(0, MAX_DESCRIPTION),
    files,
    columns,
    trainRows,
    ...(profiledRows === undefined ? {} : { profiledRows }),
    sampleSubmission: sample.split('\n').slice(0, SAMPLE_LINES).join('\n'),
    leaderboards: await readLeaderboards(packageDir),
  };
}
