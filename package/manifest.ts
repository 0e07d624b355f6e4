import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { TASK_SCHEMA, type TaskManifest, taskManifestSchema } from '../domain/task';
import { BadPackageError } from './errors';
import { LAYOUT, packagePaths } from './layout';

/** A manifest as read: valid, or what is wrong with it (one line, and the schema's issues). */
export type ManifestReading = { manifest: TaskManifest } | { problem: string; issues?: string[] };

/** Parses and validates the text of a manifest; undefined text is a missing file. */
export function parseManifest(text: string | undefined): ManifestReading {
  if (text === undefined) return { problem: `${LAYOUT.manifest} is missing` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { problem: `${LAYOUT.manifest} is not valid JSON: ${(err as Error).message}` };
  }
  const parsed = taskManifestSchema.safeParse(json);
  if (parsed.success) return { manifest: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { problem: `${LAYOUT.manifest} does not match ${TASK_SCHEMA}: ${issues.join('; ')}`, issues };
}

/** The package's manifest as read, whatever state it is in. */
export async function inspectManifest(packageDir: string): Promise<ManifestReading> {
  return parseManifest(await readFile(packagePaths(packageDir).manifest, 'utf8').catch(() => undefined));
}

/** The package's valid manifest, or a BadPackageError saying what is wrong. */
export async function readManifest(packageDir: string): Promise<TaskManifest> {
  const reading = await inspectManifest(packageDir);
  if ('problem' in reading) throw new BadPackageError(`${packageDir}: ${reading.problem}`);
  return reading.manifest;
}

/** Whether the folder holds a manifest at all (valid or not): the mark of a package folder. */
export function hasManifest(dir: string): boolean {
  return existsSync(packagePaths(dir).manifest);
}

/** The manifest as plain JSON, unvalidated; undefined when missing or not a JSON object. */
export async function readManifestFields(packageDir: string): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(packagePaths(packageDir).manifest, 'utf8').catch(() => undefined);
  try {
    const json: unknown = text === undefined ? undefined : JSON.parse(text);
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(packageDir: string, manifest: object): Promise<void> {
  await writeFile(packagePaths(packageDir).manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Adds `fields` to the manifest (verification's summary, scores, provenance). A missing or broken
 * manifest is left alone: verification already reports it as a failed check. false then.
 */
export async function annotateManifest(packageDir: string, fields: Record<string, unknown>): Promise<boolean> {
  const manifest = await readManifestFields(packageDir);
  if (!manifest) return false;
  await writeManifest(packageDir, { ...manifest, ...fields });
  return true;
}
