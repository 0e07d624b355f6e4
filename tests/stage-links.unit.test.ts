import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findLinks, linksOfPackage } from '../package/links';
import { copyForVerification } from '../package/stage';

const root = mkdtempSync(join(tmpdir(), 'anvil-stage-links-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('staging a package with links', () => {
  it('copies no link, follows none, and records each for files.no_links', async () => {
    const secret = join(root, 'host-secret.txt');
    writeFileSync(secret, 'host secret\n');
    const source = join(root, 'source');
    mkdirSync(join(source, 'public'), { recursive: true });
    mkdirSync(join(source, 'solutions'), { recursive: true });
    writeFileSync(join(source, 'task.json'), '{}');
    symlinkSync(secret, join(source, 'solutions', 'baseline.py'));
    symlinkSync(secret, join(source, 'public', 'train.csv'));
    symlinkSync('/etc', join(source, 'raw'));

    const staged = join(root, 'staged');
    await copyForVerification(source, staged);
    expect(await findLinks(staged)).toEqual([]);
    expect(lstatSync(join(staged, 'task.json')).isFile()).toBe(true);
    expect(() => lstatSync(join(staged, 'solutions', 'baseline.py'))).toThrow();
    expect(await linksOfPackage(staged)).toEqual([
      'public/train.csv -> ' + secret,
      'raw -> /etc',
      'solutions/baseline.py -> ' + secret,
    ]);
    expect(readFileSync(join(staged, 'refused-links.json'), 'utf8')).not.toContain('host secret');
  });

  it('finds nothing in a package of plain files', async () => {
    const plain = join(root, 'plain');
    mkdirSync(join(plain, 'raw'), { recursive: true });
    writeFileSync(join(plain, 'raw', 'data.csv'), 'a\n1\n');
    await copyForVerification(plain, join(root, 'plain-staged'));
    expect(await linksOfPackage(join(root, 'plain-staged'))).toEqual([]);
  });
});
