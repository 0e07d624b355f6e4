import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDocumentation } from '../activities/intake/documentation';
import { profileTable } from '../activities/intake/profile';
import { readTable } from '../activities/intake/read-table';
import { brainstorm } from '../agents/heuristic/brainstormer';
import type { DatasetProfile } from '../domain/profile';
import { CORPUS_NAMES, corpusDatasetPath, DEV_CORPUS, enoughHits, judgeTargets } from '../examples/dev-corpus';

const cacheDir = mkdtempSync(join(tmpdir(), 'anvil-dev-corpus-'));

/**
 * The Brainstormer's choice over intake's profile for every dataset of the development corpus: the
 * first formulation hits a target the data exists for on ≥13 of 15 (scaled to the corpus size), and at
 * most 1 in 5 formulations is on the nonsense list. (bench/forge.ts forges them all end to end;
 * tests/dev-corpus-forge.int.test.ts forges them all through the Forge workflow.)
 */
describe('development corpus: the formulations reflect what each dataset is for', () => {
  it(`proposes an intended target first on ≥13/15 of the ${CORPUS_NAMES.length} datasets, ≤1 in 5 nonsense`, async () => {
    expect(CORPUS_NAMES.length).toBeGreaterThanOrEqual(15);
    const rows: string[] = [];
    let hits = 0;
    let proposals = 0;
    let nonsense = 0;
    for (const name of CORPUS_NAMES) {
      const path = await corpusDatasetPath(name, cacheDir);
      const { table, format } = await readTable(path);
      const documentation = await readDocumentation(path);
      const profile: DatasetProfile = {
        name,
        source: { files: [], format },
        dataFile: path,
        ...profileTable(table, documentation),
      };
      const targets = brainstorm({ profile, maxTasks: 3 }).map((p) => p.target);
      const { hit, nonsense: wrong } = judgeTargets(DEV_CORPUS[name], targets);
      hits += Number(hit);
      proposals += targets.length;
      nonsense += wrong.length;
      rows.push(
        `${name.padEnd(32)} ${hit ? 'hit ' : 'MISS'} ${targets.join(', ')}${wrong.length ? ` (nonsense: ${wrong})` : ''}`,
      );
    }
    console.log(rows.join('\n'));
    expect(hits, rows.join('\n')).toBeGreaterThanOrEqual(enoughHits(CORPUS_NAMES.length));
    expect(nonsense * 5, rows.join('\n')).toBeLessThanOrEqual(proposals);
  });
});
