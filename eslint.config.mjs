import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const sideEffecting =
  'workflow code must stay deterministic: do this in an activity and call it through proxyActivities (type-only imports are fine)';
const agentsOff = 'workflows must not depend on agents/ (not even for types): what both use belongs in domain/';

/** Import patterns for everything in these folders (at any depth of `../`), and the folders themselves. */
const folders = (...dirs) => dirs.flatMap((dir) => [`**/${dir}`, `**/${dir}/*`]);

/** Files under `dirs` may not import what `group` matches, type-only imports included. */
const layer = (dirs, group, message) => ({
  files: dirs.map((dir) => `${dir}/**/*.ts`),
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
});

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.anvil/', 'tests/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'readonly',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }] },
  },
  {
    // Workflows run in Temporal's deterministic sandbox: no Node built-ins, Docker, LLM clients or
    // activity implementations at run time; and nothing from agents/, types included.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, 'dockerode', 'openai'].map((name) => ({
            name,
            message: sideEffecting,
            allowTypeImports: true,
          })),
          patterns: [
            { group: ['node:*'], message: sideEffecting, allowTypeImports: true },
            {
              group: ['**/activities', '**/activities/*', 'dockerode/*', 'openai/*'],
              message: sideEffecting,
              allowTypeImports: true,
            },
            { group: ['**/agents', '**/agents/**'], message: agentsOff },
          ],
        },
      ],
    },
  },
  // Who may import whom: client/ is the Temporal client side, gateway/ only HTTP + OpenAPI over it.
  layer(['activities', 'workers'], folders('gateway'), 'activities and workers reach Temporal through client/'),
  layer(['gateway'], folders('activities', 'workers', 'cli'), 'gateway/ is only HTTP + OpenAPI over client/'),
  // No bare `**/gateway` here: excluding the folder would also shut out the server (gateway/ has no index).
  layer(['cli'], ['**/gateway/*', '!**/gateway/server'], 'the CLI takes only server.ts from gateway/, to serve HTTP'),
  layer(['client'], folders('activities', 'workers', 'cli', 'gateway'), 'client/: domain/, config/, client SDK only'),
  {
    // package/ is a layer beside sandbox/ and config/: the task package's layout, read and written
    // for everyone above it. It knows nothing of them.
    files: ['package/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['activities', 'workflows', 'workers', 'gateway', 'cli', 'agents'].flatMap((layer) => [
                `**/${layer}`,
                `**/${layer}/**`,
              ]),
              message: 'package/ may import domain/ and config/ only: move the type it needs into domain/',
            },
          ],
        },
      ],
    },
  },
);
