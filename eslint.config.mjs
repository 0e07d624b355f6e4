import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const sideEffecting = 'workflow code must stay deterministic: do this in an activity and call it through proxyActivities (type-only imports are fine)';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.anvil/', 'tests/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'readonly', process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }] },
  },
  {
    // Workflows run in Temporal's deterministic sandbox: no Node built-ins, Docker, LLM clients or
    // activity implementations at run time.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [...builtinModules, 'dockerode', 'openai'].map((name) => ({ name, message: sideEffecting, allowTypeImports: true })),
        patterns: [
          { group: ['node:*'], message: sideEffecting, allowTypeImports: true },
          { group: ['**/activities', '**/activities/*', 'dockerode/*', 'openai/*'], message: sideEffecting, allowTypeImports: true },
        ],
      }],
    },
  },
  {
    // package/ is a layer beside sandbox/ and config/: the task package's layout, read and written
    // for everyone above it. It knows nothing of them.
    files: ['package/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: ['activities', 'workflows', 'workers', 'gateway', 'cli', 'agents']
            .flatMap((layer) => [`**/${layer}`, `**/${layer}/**`]),
          message: 'package/ may import domain/ and config/ only: move the type it needs into domain/',
        }],
      }],
    },
  },
);
