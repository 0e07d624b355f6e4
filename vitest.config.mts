import { defineConfig } from 'vitest/config';

// Two projects, told apart by file name. `unit` (*.unit.test.ts) needs neither Docker nor Temporal;
// `int` (*.int.test.ts) runs against the Docker engine and the one Temporal dev server that
// tests/global-setup.ts starts for the whole run. `vitest run` runs both; `--project unit` one.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/**/*.unit.test.ts'] } },
      { extends: true, test: { name: 'int', include: ['tests/**/*.int.test.ts'], globalSetup: ['tests/global-setup.ts'] } },
    ],
  },
});
