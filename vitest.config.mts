import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The int files that take minutes, slowest first (measured on two cores; local-llm waits on a real model). Started first, they do not
 * leave one worker running alone at the end of the run: vitest's own order on a fresh clone, larger
 * files first, started verify-corpus (small but the slowest) third from last, and it then ran alone
 * for its last four minutes. The rest keep vitest's order.
 */
const SLOWEST = [
  'dev-corpus-forge',
  'torch-profile', // builds the python-torch image first (minutes, once: cached by recipe hash)
  'forge-images',
  'text-forge',
  'forecast-forge',
  'local-llm',
  'session-move',
  'python-client',
  'heuristic-spread',
  'ladder',
  'verify-corpus',
  'rollouts',
  'scale-out',
  'forge',
  'synth',
  'dojo-durability',
  'dojo-cli',
  'openai-forge',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.findIndex((name) => f.moduleId.endsWith(`/tests/${name}.int.test.ts`));
      return i === -1 ? SLOWEST.length : i;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

// Two projects, told apart by file name. `unit` (*.unit.test.ts) needs neither Docker nor Temporal;
// `int` (*.int.test.ts) runs against the Docker engine and the one Temporal dev server that
// tests/global-setup.ts starts for the whole run. `vitest run` runs both, unit first; `--project unit`
// runs one.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    sequence: { sequencer: SlowestFirst },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['tests/**/*.unit.test.ts'], maxWorkers: '100%', sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['tests/**/*.int.test.ts'],
          globalSetup: ['tests/global-setup.ts'],
          // Int files mostly wait (on containers, heartbeat timeouts, restarted workers): two at a
          // time keep two cores busy. Each file has its own task queues and artifact folder.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          // Forges the CLI starts skip the reference ladder (27 sandbox runs a task): the tests that
          // are about it ask for it in their workflow input (tests/ladder.int.test.ts).
          env: { ANVIL_LADDER: '0' },
        },
      },
    ],
  },
});
