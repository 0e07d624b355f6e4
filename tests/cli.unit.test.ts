import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(__dirname, '..');

async function anvil(args: string[], env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'anvil-cli-'));
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'anvil.js'), ...args], {
      cwd,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the anvil command', () => {
  it('lists its commands with --help, through the package bin as npx runs it', async () => {
    const { stdout } = await run('npx', ['--no-install', 'anvil', '--help'], { cwd: root });
    for (const command of ['anvil config', 'anvil dev', 'anvil worker --queue control|llm|cpu|gpu', 'anvil smoke'])
      expect(stdout).toContain(command);
  });

  it('prints the resolved config as JSON, with env overrides applied', async () => {
    const { code, stdout } = await anvil(['config'], {
      ANVIL_SANDBOX_TIMEOUT_S: '42',
      TEMPORAL_ADDRESS: 'example:7233',
    });
    expect(code).toBe(0);
    const config = JSON.parse(stdout);
    expect(config.sandbox.limits.timeoutS).toBe(42);
    expect(config.temporal.address).toBe('example:7233');
    expect(config.sandbox.image).toMatch(/^anvil\/sandbox-python:[0-9a-f]{12}$/);
  });

  it('fails at start on a bad config value, naming key and value, with exit 2', async () => {
    const { code, stderr } = await anvil(['config'], { ANVIL_SANDBOX_CPUS: 'lots' });
    expect(code).toBe(2);
    expect(stderr).toContain('sandbox.limits.cpus = "lots" (from env ANVIL_SANDBOX_CPUS) is not allowed');
  });

  it('refuses unknown commands, flags and queues with what to do', async () => {
    expect(await anvil(['frobnicate'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "frobnicate"'),
    });
    expect(await anvil(['smoke', '--nope'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--nope'"),
    });
    expect(await anvil(['worker', '--queue', 'tpu'], { TEMPORAL_ADDRESS: '127.0.0.1:1' })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--queue must be one of control, llm, cpu, gpu (got tpu)'),
    });
  });

  it('refuses a GPU worker on a host without a GPU unless told to emulate one', async () => {
    const { code, stderr } = await anvil(['worker', '--queue', 'gpu'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(code).toBe(1);
    expect(stderr).toContain('no GPU on this host (nvidia-smi lists none)');
    expect(stderr).toContain('ANVIL_GPU_EMULATE=1');
  });

  // The test's own timeout bounds it: the CLI must not retry an unreachable endpoint for minutes.
  it('with --provider openai, fails at once naming the missing key or the unreachable address', async () => {
    const noKey = await anvil(['forge', 'example:iris', '--provider', 'openai'], {
      OPENAI_API_KEY: '',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(noKey).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('the openai provider needs OPENAI_API_KEY'),
    });
    const unreachable = await anvil(['forge', 'example:iris', '--provider', 'openai'], {
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(unreachable).toMatchObject({
      code: 3,
      stderr: expect.stringContaining(
        'cannot reach the OpenAI-compatible endpoint at http://127.0.0.1:1/v1 (OPENAI_BASE_URL)',
      ),
    });
  }, 60_000);
});
