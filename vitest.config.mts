import { defineConfig } from 'vitest/config';

// Two projects, told apart by file name. `unit` (*.unit.test.ts) needs neither Docker nor Temporal;
// `int` (*.int.test.ts) runs against the Docker engine and the one Temporal dev server that
// tests/global-setup.ts starts for the whole run. `vitest run` runs both, unit first; `--project unit`
// runs one.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
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
        },
      },
    ],
  },
});
