import { appendFile, open } from 'node:fs/promises';
import type { TrajectoryEntry } from '../../domain/env';

const CHUNK = 64 * 1024;

/**
 * The step of the file's last complete line, read from its end (never the whole file), or -1 for
 * none. A line a crash cut short (no newline yet) is completed so the next line stays parseable.
 */
async function lastStep(file: string): Promise<number> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return -1;
  try {
    let end = (await handle.stat()).size;
    if (end === 0) return -1;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, end - 1);
    if (last[0] !== 0x0a) await appendFile(file, '\n');
    // Complete lines from the end backwards, until one parses.
    let tail = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]);
      end = start;
      const lines = tail.toString('utf8').split('\n');
      // The first piece may be a partial line unless the file's start was reached.
      for (let i = lines.length - 1; i >= (end === 0 ? 0 : 1); i--) {
        try {
          return (JSON.parse(lines[i]!) as TrajectoryEntry).step;
        } catch {
          // empty, or a line a crash cut short: look further back
        }
      }
      if (end > 0) tail = Buffer.from(lines[0]!, 'utf8');
    }
    return -1;
  } finally {
    await handle.close();
  }
}

/**
 * Appends one step to a trajectory, once: steps are appended in order, so a retried append (or a
 * replayed step) whose number is not past the file's last step is skipped.
 */
export async function appendStepOnce(file: string, entry: TrajectoryEntry): Promise<void> {
  if ((await lastStep(file)) >= entry.step) return;
  await appendFile(file, `${JSON.stringify(entry)}\n`);
}
