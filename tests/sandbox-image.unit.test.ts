import { appendFileSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxImageTag } from '../sandbox/image';

const recipe = join(__dirname, '..', 'sandbox', 'image');

describe('the sandbox image tag', () => {
  it('changes with any recipe file, so a changed recipe builds a new image', () => {
    const copy = mkdtempSync(join(tmpdir(), 'anvil-recipe-'));
    cpSync(recipe, copy, { recursive: true });
    const before = sandboxImageTag(copy);
    expect(before).toBe(sandboxImageTag(recipe));
    for (const file of ['packages.txt', 'build-offline.sh', 'Dockerfile']) {
      const dir = mkdtempSync(join(tmpdir(), 'anvil-recipe-'));
      cpSync(recipe, dir, { recursive: true });
      appendFileSync(join(dir, file), '\n# changed\n');
      expect(sandboxImageTag(dir), file).not.toBe(before);
    }
  });

  it('gives each profile its own image, which changes with the base recipe and with its package list', () => {
    const ml = sandboxImageTag(recipe);
    const torch = sandboxImageTag(recipe, 'python-torch');
    expect(ml).toMatch(/^anvil\/sandbox-python:[0-9a-f]{12}$/);
    expect(torch).toMatch(/^anvil\/sandbox-python-torch:[0-9a-f]{12}$/);
    expect(sandboxImageTag(recipe, 'python-ml')).toBe(ml);
    for (const file of ['packages.txt', 'profiles/python-torch.txt']) {
      const dir = mkdtempSync(join(tmpdir(), 'anvil-recipe-'));
      cpSync(recipe, dir, { recursive: true });
      appendFileSync(join(dir, file), '\n# changed\n');
      expect(sandboxImageTag(dir, 'python-torch'), file).not.toBe(torch);
    }
  });
});
