import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('a GPU worker on a host without GPUs', () => {
  it('refuses to start unless told to emulate one, and says what to do', async () => {
    // An empty PATH hides nvidia-smi, so this host looks GPU-less even where it has GPUs.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: mkdtempSync(join(tmpdir(), 'no-nvidia-smi-')),
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'),
    };
    delete env.ANVIL_GPU_EMULATE;
    const child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'anvil.js'), 'worker', '--queue', 'gpu'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(out).toContain('no GPU on this host');
    expect(out).toContain('ANVIL_GPU_EMULATE=1');
    expect(out).not.toContain('polling');
  });
});
