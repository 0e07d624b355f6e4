import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageMetadata, runImageChecks } from '../activities/verification-images';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG's chunk (CRC left zero: the checks read chunks, they never decode). */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
}

const png = (pixels: string, text?: string) =>
  Buffer.concat([
    SIGNATURE,
    chunk('IHDR', Buffer.alloc(13)),
    ...(text === undefined ? [] : [chunk('tEXt', Buffer.from(`Comment\0${text}`, 'latin1'))]),
    chunk('IDAT', Buffer.from(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);

type Leak = 'none' | 'duplicate' | 'name' | 'metadata';

/** A prepared image package: 20 train and 10 test images of two classes, with one leak. */
function prepared(leak: Leak): string {
  const dir = mkdtempSync(join(tmpdir(), 'anvil-image-checks-'));
  for (const part of ['public/train', 'public/test', 'private']) mkdirSync(join(dir, part), { recursive: true });
  const test = ['id,image'];
  const answers = ['id,label'];
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'public/train', `${200000 + i}.png`), png(`train ${i}`));
  for (let i = 0; i < 10; i++) {
    const id = 100000 + i;
    const label = i % 2 ? 'cat' : 'dog';
    const name = leak === 'name' ? `test/${label}_${id}.png` : `test/${id}.png`;
    const pixels = leak === 'duplicate' && i === 3 ? 'train 7' : `test ${i}`;
    writeFileSync(join(dir, 'public', name), png(pixels, leak === 'metadata' ? `a ${label}` : undefined));
    test.push(`${id},${name}`);
    answers.push(`${id},${label}`);
  }
  writeFileSync(join(dir, 'public/test.csv'), test.join('\n') + '\n');
  writeFileSync(join(dir, 'private/answers.csv'), answers.join('\n') + '\n');
  return dir;
}

const verdicts = async (leak: Leak) =>
  Object.fromEntries((await runImageChecks(prepared(leak), 'id', 'label')).map((c) => [c.name, c.passed]));

describe('image checks', () => {
  it('pass a package whose test images are unique, neutrally named and without metadata', async () => {
    expect(await verdicts('none')).toEqual({
      'images.no_test_in_train': true,
      'images.no_label_in_names': true,
      'images.no_label_in_metadata': true,
    });
  });

  it.each([
    ['duplicate', 'images.no_test_in_train'],
    ['name', 'images.no_label_in_names'],
    ['metadata', 'images.no_label_in_metadata'],
  ] as const)('catch a %s leak with %s alone', async (leak, check) => {
    const result = await verdicts(leak);
    expect(Object.entries(result).filter(([, passed]) => !passed)).toEqual([[check, false]]);
  });

  it('read PNG text chunks and JPEG comments as metadata', () => {
    expect(imageMetadata(png('x', 'label=7'))).toEqual(['Comment\0label=7']);
    const jpeg = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x07]),
      Buffer.from('seven'),
      Buffer.from([0xff, 0xd9]),
    ]);
    expect(imageMetadata(jpeg)).toEqual(['seven']);
  });

  it('pass a package without images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-no-images-'));
    expect((await runImageChecks(dir, 'id', 'label')).every((c) => c.passed)).toBe(true);
  });
});
