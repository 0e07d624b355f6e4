import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathsUnder, syncedPaths } from '../activities/store-sync';
import { loadConfig } from '../config';
import { artifactSync } from '../workers/store-sync';

const home = '/srv/anvil';
const roots = { artifacts: join(home, 'artifacts'), catalog: join(home, 'catalog') };

describe("which paths an activity's input or result names for the store sync", () => {
  it('finds absolute paths under a root anywhere in the arguments, and nothing else', () => {
    const args = [
      {
        draftDir: `${roots.artifacts}/forge/f1/iris/round-1`,
        nested: { list: [`${roots.artifacts}/datasets/iris-1/profile.json`, 42, null] },
        neighbour: `${roots.artifacts}-old/forge/x`,
        relative: 'artifacts/forge/x',
        escaping: `${roots.artifacts}/../catalog/iris`,
        code: `print("${roots.artifacts}/forge/f1")\n`,
      },
    ];
    expect([...pathsUnder(args, roots.artifacts)].sort()).toEqual([
      `${roots.artifacts}/datasets/iris-1/profile.json`,
      `${roots.artifacts}/forge/f1/iris/round-1`,
    ]);
    expect([...pathsUnder(args, roots.catalog)]).toEqual([]);
  });

  it("leaves out each host's own runs, scratch, sessions and trajectories, and the catalog", () => {
    const result = {
      workspaceDir: `${roots.artifacts}/runs/abc`,
      grading: `${roots.artifacts}/scratch/g1`,
      session: `${roots.artifacts}/sessions/env-1/workspace`,
      trajectory: `${roots.artifacts}/trajectories/env-1.jsonl`,
      report: `${roots.artifacts}/verify/pkg/verification.json`,
      transcript: `${roots.artifacts}/transcripts/ep-1`,
    };
    expect(syncedPaths(result, roots).sort()).toEqual([
      `${roots.artifacts}/transcripts/ep-1`,
      `${roots.artifacts}/verify/pkg/verification.json`,
    ]);
    const catalogInside = { ...roots, catalog: join(roots.artifacts, 'catalog') };
    expect(syncedPaths({ task: `${roots.artifacts}/catalog/iris` }, catalogInside)).toEqual([]);
  });

  it('wraps nothing with the fs backend: the same activity functions, no store opened', async () => {
    const activities = { intakeDataset: async () => 'done' };
    const config = loadConfig({ ANVIL_HOME: home, ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json') });
    expect(config.store.backend).toBe('fs');
    const synced = await artifactSync(config);
    expect(synced(activities)).toBe(activities);
  });
});
