import { type FileHandle, open, readFile } from 'node:fs/promises';
import type { TrajectoryEntry } from '../domain/env';

const CHUNK = 64 * 1024;

/**
 * The last entry (scanning the file's complete lines from its end, never the whole file) that
 * `found` accepts; undefined when none does.
 */
async function fromEnd(
  handle: FileHandle,
  size: number,
  found: (entry: TrajectoryEntry) => boolean,
): Promise<TrajectoryEntry | undefined> {
  let end = size;
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
      let entry: TrajectoryEntry;
      try {
        entry = JSON.parse(lines[i]!) as TrajectoryEntry;
      } catch {
        continue; // empty, or a line a crash cut short: look further back
      }
      if (found(entry)) return entry;
    }
    if (end > 0) tail = Buffer.from(lines[0]!, 'utf8');
  }
  return undefined;
}

/** The entry of this step, if the trajectory holds it (steps are appended in order: read from the end). */
export async function recordedStep(file: string, step: number): Promise<TrajectoryEntry | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const entry = await fromEnd(handle, (await handle.stat()).size, (e) => e.step <= step);
    return entry?.step === step ? entry : undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Appends one step to a trajectory, once: steps are appended in order, so a retried append (or a
 * replayed step) whose number is not past the file's last step is skipped. A last line a crash cut
 * short (no newline yet) is ended first, so the new line stays parseable.
 */
export async function appendStepOnce(file: string, entry: TrajectoryEntry): Promise<void> {
  const handle = await open(file, 'a+');
  try {
    const { size } = await handle.stat();
    if (((await fromEnd(handle, size, () => true))?.step ?? -1) >= entry.step) return;
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const line = `${JSON.stringify(entry)}\n`;
    await handle.appendFile(size > 0 && last[0] !== 0x0a ? `\n${line}` : line);
  } finally {
    await handle.close();
  }
}

/** Every complete step of a trajectory file, in its order (a line a crash cut short is skipped); undefined: no file. */
export async function readTrajectoryFile(file: string): Promise<TrajectoryEntry[] | undefined> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text?.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as TrajectoryEntry] : [];
    } catch {
      return [];
    }
  });
}
