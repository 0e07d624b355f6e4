import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxImageTag } from '../sandbox/image';

describe('the sandbox image tag', () => {
  it('is what the set-up script builds and what the engine holds', () => {
    const printed = execFileSync('npx', ['--no-install', 'tsx', 'sandbox/image.ts'], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    }).trim();
    expect(printed).toBe(sandboxImageTag());
    const ids = execFileSync('docker', ['image', 'ls', '-q', printed], { encoding: 'utf8' }).trim();
    expect(ids).not.toBe('');
  });
});
