import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CatalogEntry {
  id: string;
  path: string;
  manifest: Record<string, unknown> & { id: string; title?: string; taskType?: string; metric?: { name: string }; referenceScores?: Record<string, number> };
}

/** The published tasks of a catalog folder; hidden folders are publishes in progress. */
export function listCatalog(catalogDir: string): CatalogEntry[] {
  if (!existsSync(catalogDir)) return [];
  return readdirSync(catalogDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(catalogDir, e.name, 'task.json')))
    .map((e) => ({ id: e.name, path: join(catalogDir, e.name), manifest: JSON.parse(readFileSync(join(catalogDir, e.name, 'task.json'), 'utf8')) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** A task folder from a path, or from an id in the catalog; undefined when neither exists. */
export function resolveTask(taskOrDir: string, catalogDir: string): string | undefined {
  if (existsSync(join(resolve(taskOrDir), 'task.json'))) return resolve(taskOrDir);
  const inCatalog = join(catalogDir, taskOrDir);
  return existsSync(join(inCatalog, 'task.json')) ? inCatalog : undefined;
}
