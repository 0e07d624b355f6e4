import { parseArgs } from 'node:util';
import type { AnvilConfig } from '../../config';
import { openCatalog, resolveTaskIn } from '../../package/open-catalog';
import { readManifest } from '../../package/manifest';
import { unknownTask } from '../../client';
import { usageError } from '../failure-report';

export const help = `anvil tasks list [--catalog DIR] [--json]
anvil tasks show <id> [--catalog DIR] [--json]
  The published tasks of the catalog (default .anvil/catalog). Exit 0 ok, 2 unknown id or usage.`;

export async function run(argv: string[], config: AnvilConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean', default: false }, catalog: { type: 'string' } },
  });
  const catalog = await openCatalog(config, { dir: values.catalog });
  const [verb, id] = positionals;
  if (verb === 'list' && !id) {
    const entries = await catalog.list();
    if (values.json) {
      console.log(
        JSON.stringify(
          entries.map((e) => ({
            id: e.id,
            path: e.path,
            title: e.manifest.title,
            taskType: e.manifest.taskType,
            metric: e.manifest.metric,
            referenceScores: e.manifest.referenceScores,
          })),
        ),
      );
    } else if (entries.length === 0) {
      console.log(`no tasks in ${catalog.describe} yet: forge some with \`anvil forge <dataset>\``);
    } else {
      for (const { id, manifest: m } of entries)
        console.log(`${id.padEnd(40)} ${m.taskType.padEnd(26)} ${m.metric.name}`);
    }
    return 0;
  }
  if (verb === 'show' && id) {
    const dir = await resolveTaskIn(catalog, id);
    if (!dir) {
      throw unknownTask(
        id,
        catalog.describe,
        (await catalog.list()).map((e) => e.id),
      );
    }
    const manifest = await readManifest(dir);
    if (values.json) {
      console.log(JSON.stringify({ path: dir, manifest }));
    } else {
      const { metric } = manifest;
      console.log(`${manifest.title}\n  id: ${manifest.id}\n  path: ${dir}`);
      const direction = `${metric.higherIsBetter ? 'higher' : 'lower'} is better`;
      const kind = `${manifest.taskType}, ${manifest.modality}`;
      console.log(`  ${kind}; target ${manifest.target}; metric ${metric.name} (${direction})`);
      console.log(
        `  reference scores: ${JSON.stringify(manifest.referenceScores ?? {})}\n  verification: ${JSON.stringify(manifest.verification ?? {})}`,
      );
    }
    return 0;
  }
  throw usageError(help, 'tasks takes list, or show <id>');
}
