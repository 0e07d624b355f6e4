import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config';

function dirWith(config?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'anvil-config-'));
  if (config !== undefined)
    writeFileSync(join(dir, 'anvil.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('config: env vars > anvil.config.json > defaults', () => {
  it('has working defaults with no file and no env', () => {
    const dir = dirWith();
    const config = loadConfig({}, dir);
    expect(config.temporal.address).toBeUndefined();
    expect(config.temporal.devServer).toEqual({ port: 7233, uiPort: 8233, dbFile: join(dir, '.anvil', 'temporal.db') });
    expect(config.taskQueuePrefix).toBe('anvil');
    expect(config.sandbox.limits.memoryMb).toBe(2048);
  });

  it('lets the file override defaults and env vars override the file', () => {
    const dir = dirWith({ sandbox: { limits: { memoryMb: 512, pids: 99 } }, taskQueuePrefix: 'fromfile' });
    const config = loadConfig({ ANVIL_SANDBOX_MEMORY_MB: '768', TEMPORAL_ADDRESS: 'temporal.example:7233' }, dir);
    expect(config.sandbox.limits.memoryMb).toBe(768); // env beats file
    expect(config.sandbox.limits.pids).toBe(99); // file beats default
    expect(config.sandbox.limits.cpus).toBe(1); // default kept beside overridden siblings
    expect(config.taskQueuePrefix).toBe('fromfile');
    expect(config.temporal.address).toBe('temporal.example:7233');
  });

  it('names the key, the value, where it came from and what is allowed', () => {
    expect(() => loadConfig({ ANVIL_SANDBOX_PIDS: '-3' }, dirWith())).toThrow(
      /sandbox\.limits\.pids = "-3" \(from env ANVIL_SANDBOX_PIDS\) is not allowed: .*(positive|>0|greater)/i,
    );
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'no-port-here' }, dirWith())).toThrow(
      /temporal\.address = "no-port-here" .*expected host:port/,
    );
    const dir = dirWith({ sandbox: { backend: 'podman' } });
    expect(() => loadConfig({}, dir)).toThrow(
      /sandbox\.backend = "podman" \(from .*anvil\.config\.json or defaults\) is not allowed: .*"docker"/,
    );
  });

  it('rejects unknown keys and broken files with what to do', () => {
    expect(() => loadConfig({}, dirWith({ sandbox: { limitz: {} } }))).toThrow(/unknown key\(s\) sandbox\.limitz/);
    expect(() => loadConfig({}, dirWith('{ not json'))).toThrow(ConfigError);
    expect(() => loadConfig({}, dirWith('{ not json'))).toThrow(/not valid JSON .*fix or remove it/);
    expect(() => loadConfig({ ANVIL_CONFIG: 'missing.json' }, dirWith())).toThrow(
      /ANVIL_CONFIG points to .*missing\.json, which does not exist/,
    );
  });
});
