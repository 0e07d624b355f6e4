import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// vitest.config.mts picks its projects by file name: `unit` takes *.unit.test.ts and runs with no
// Docker engine and no Temporal server; `int` takes *.int.test.ts. A file named otherwise runs in neither.
const files = readdirSync(__dirname, { recursive: true, encoding: 'utf8' }).filter((f) =>
  /\.test\.[cm]?[jt]sx?$/.test(f),
);

/**
 * What connects to Docker or Temporal, or needs the int project's global set-up. The client SDK's
 * failure classes (WorkflowFailedError, …) connect nowhere: unit tests may build failure chains.
 */
const INT_ONLY = [
  './helpers/env',
  './helpers/dojo',
  './helpers/containers',
  './helpers/worker-process',
  './global-setup',
  'dockerode',
  '@temporalio/worker',
  '../sandbox/docker',
  '../sandbox/warm',
  '../workers',
  '../workers/dev-server',
];

describe('test files', () => {
  it('are each named *.unit.test.ts or *.int.test.ts', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !/\.(unit|int)\.test\.ts$/.test(f))).toEqual([]);
  });

  it.each(files.filter((f) => f.endsWith('.unit.test.ts')))(
    '%s imports nothing that needs Docker or Temporal',
    (file) => {
      const source = readFileSync(join(__dirname, file), 'utf8');
      const imported = [...source.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)].map((m) => m[1]!);
      expect(imported.length).toBeGreaterThan(0);
      expect(imported.filter((m) => INT_ONLY.includes(m))).toEqual([]);
    },
  );
});
