import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { freePort } from './global-setup';

const anvil = join(__dirname, '..', 'bin', 'anvil.js');

describe('the embedded default (no TEMPORAL_ADDRESS)', () => {
  let dev: ChildProcess | undefined;
  afterAll(() => dev?.kill('SIGKILL'));

  it("anvil dev runs a server with Anvil's search attributes and the workers; other commands reuse it; Ctrl-C stops both", async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      ANVIL_HOME: mkdtempSync(join(tmpdir(), 'anvil-dev-')),
      ANVIL_CONFIG: join(__dirname, 'helpers', 'empty-config.json'),
      ANVIL_DEV_SERVER_PORT: String(port),
      ANVIL_DEV_SERVER_UI_PORT: String(await freePort()),
      ANVIL_TASK_QUEUE_PREFIX: `dev${port}`,
    };
    delete (env as NodeJS.ProcessEnv).TEMPORAL_ADDRESS;

    dev = spawn(process.execPath, [anvil, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dev.stdout!.on('data', (d) => (out += d));
    dev.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => dev!.once('exit', r));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`anvil dev did not come up:\n${out}`)), 90_000);
      dev!.stdout!.on('data', () => out.includes('Ctrl-C') && (clearTimeout(timer), resolve()));
    });
    expect(out).toContain(`dev server started at 127.0.0.1:${port}`);
    expect(out).toContain(`Web UI: http://localhost:${env.ANVIL_DEV_SERVER_UI_PORT}`);

    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining([...SEARCH_ATTRIBUTES]));

    // `anvil smoke` (what `make demo` runs) finds the running server and reuses it.
    const { stdout } = await promisify(execFile)(process.execPath, [anvil, 'smoke', '--json'], { env });
    const smoke = JSON.parse(stdout);
    expect(smoke.score).toBeGreaterThan(0.9);
    expect(smoke.uiUrl).toContain(`http://localhost:${env.ANVIL_DEV_SERVER_UI_PORT}/namespaces/default/workflows/`);
    const described = await connection.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId: smoke.workflowId },
    });
    expect(described.workflowExecutionInfo?.type?.name).toBe('sandboxSmoke');
    await connection.close();

    dev.kill('SIGINT');
    expect(await exited).toBe(0);
    // The server anvil dev started went with it.
    await expect(Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1000 })).rejects.toThrow();
  });
});
