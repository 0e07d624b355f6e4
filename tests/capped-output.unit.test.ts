import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../sandbox/capped-output';

async function feed(cap: number, chunks: string[]): Promise<CappedOutput> {
  const out = new CappedOutput(cap);
  for (const c of chunks) await new Promise<void>((r) => out.write(Buffer.from(c), () => r()));
  return out;
}

describe('CappedOutput', () => {
  it('keeps everything under the cap', async () => {
    const out = await feed(100, ['hello ', 'world']);
    expect(out.text()).toBe('hello world');
    expect(out.truncated).toBe(false);
    expect(out.total).toBe(11);
  });

  it('keeps the head and the tail and counts what it drops', async () => {
    const chunks = ['HEAD-', ...Array.from({ length: 1000 }, (_, i) => `middle${i};`), '-TAIL'];
    const out = await feed(40, chunks);
    const text = out.text();
    expect(out.truncated).toBe(true);
    expect(out.total).toBe(chunks.join('').length);
    expect(text.startsWith('HEAD-')).toBe(true);
    expect(text.endsWith('-TAIL')).toBe(true);
    const omitted = Number(/\[\.\.\. (\d+) bytes omitted/.exec(text)![1]);
    expect(omitted).toBe(out.total - 40);
  });

  it('handles one chunk larger than the whole cap', async () => {
    const out = await feed(10, ['a'.repeat(3) + 'b'.repeat(100) + 'c'.repeat(3)]);
    expect(out.text()).toMatch(/^aaabb\n\[\.\.\. 96 bytes omitted.*\nbbccc$/s);
  });
});
