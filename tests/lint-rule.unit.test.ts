import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const eslint = new ESLint({ cwd: root });

async function lintAs(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message.split(':')[0]}`);
}

describe('the ESLint rule that keeps workflow code deterministic', () => {
  it.each([
    ["import { readFileSync } from 'fs';", 'fs'],
    ["import { join } from 'node:path';", 'node:path'],
    ["import { spawn } from 'child_process';", 'child_process'],
    ["import Docker from 'dockerode';", 'dockerode'],
    ["import OpenAI from 'openai';", 'openai'],
    ["import { createSandboxActivities } from '../activities/sandbox';", 'activities'],
  ])('forbids %s in workflows/', async (line) => {
    const messages = await lintAs('workflows/example.ts', `${line}\nexport const x = 1;\n`);
    expect(messages.some((m) => m.startsWith('@typescript-eslint/no-restricted-imports'))).toBe(true);
  });

  it.each([
    "import type { PolicyTurn } from '../agents/policy';",
    "import { heuristicProvider } from '../agents/heuristic';",
    "import type { TaskProposal } from '../agents/roles';",
  ])('forbids %s in workflows/, type-only imports too', async (line) => {
    const messages = await lintAs('workflows/example.ts', `${line}\nexport const x = 1;\n`);
    const restricted = /^@typescript-eslint\/no-restricted-imports: '\.\.\/agents\//;
    expect(messages).toContainEqual(expect.stringMatching(restricted));
  });

  it('allows type-only imports and the workflow SDK', async () => {
    const code = [
      "import type Docker from 'dockerode';",
      "import type { SandboxActivities } from '../activities/sandbox';",
      "import { proxyActivities } from '@temporalio/workflow';",
      'export const a = proxyActivities<SandboxActivities>({ startToCloseTimeout: 1 });',
      'export type D = Docker;',
    ].join('\n');
    expect(await lintAs('workflows/example.ts', code)).toEqual([]);
  });

  it('leaves the same imports alone outside workflows/', async () => {
    expect(
      await lintAs(
        'activities/example.ts',
        "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      ),
    ).toEqual([]);
  });

  it('finds nothing in the real workflows/', async () => {
    const results = await eslint.lintFiles([join(root, 'workflows')]);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}: ${m.message}`))).toEqual([]);
  });
});

describe('the ESLint rules that keep the layers apart', () => {
  const restricted = async (path: string, line: string) =>
    (await lintAs(path, `${line}\nexport {};\n`)).some((m) => m.startsWith('@typescript-eslint/no-restricted-imports'));

  it.each([
    ['activities/example.ts', "import type { ErrorBody } from '../gateway/server';"],
    ['workers/example.ts', "import { openApiDocument } from '../gateway/openapi';"],
    ['gateway/example.ts', "import { createWorker } from '../workers';"],
    ['gateway/example.ts', "import { createSmokeActivities } from '../activities/smoke';"],
    ['gateway/example.ts', "import { listCatalog } from '../cli/catalog';"],
    ['cli/commands/example.ts', "import { openApiDocument } from '../../gateway/openapi';"],
    ['client/example.ts', "import { startWorkers } from '../workers/in-process';"],
    ['client/example.ts', "import { createSmokeActivities } from '../activities/smoke';"],
    ['client/example.ts', "import { withTemporal } from '../cli/embedded';"],
    ['client/example.ts', "import type { ErrorBody } from '../gateway/server';"],
  ])('forbids in %s: %s', async (path, line) => {
    expect(await restricted(path, line)).toBe(true);
  });

  it.each([
    ['cli/commands/example.ts', "import { createGateway } from '../../gateway/server';"],
    ['gateway/example.ts', "import { EnvError } from '../client';"],
    ['workers/example.ts', "import { createAnvilClient } from '../client';"],
  ])('allows in %s: %s', async (path, line) => {
    expect(await restricted(path, line)).toBe(false);
  });
});
