import { Writable } from 'node:stream';

/**
 * Collects a stream up to `cap` bytes: the first half and the last half are kept, the middle is
 * only counted. Never applies back-pressure, so a chatty process cannot stall the worker.
 */
export class CappedOutput extends Writable {
  total = 0;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;

  constructor(private readonly cap: number) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.total += chunk.length;
    const headRoom = Math.floor(this.cap / 2) - this.headBytes;
    if (headRoom > 0) {
      this.head.push(chunk.subarray(0, headRoom));
      this.headBytes += Math.min(headRoom, chunk.length);
      chunk = chunk.subarray(headRoom);
    }
    if (chunk.length > 0) {
      this.tail.push(chunk);
      this.tailBytes += chunk.length;
      const tailCap = this.cap - Math.floor(this.cap / 2);
      while (this.tailBytes - this.tail[0]!.length >= tailCap) this.tailBytes -= this.tail.shift()!.length;
    }
    done();
  }

  get truncated(): boolean {
    return this.total > this.cap;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    let tail = Buffer.concat(this.tail);
    if (!this.truncated) return head + tail.toString('utf8');
    tail = tail.subarray(tail.length - (this.cap - Math.floor(this.cap / 2)));
    const omitted = this.total - this.headBytes - tail.length;
    return `${head}\n[... ${omitted} bytes omitted by the sandbox's output cap ...]\n${tail.toString('utf8')}`;
  }
}

/** The output fields of a RunResult, from a run's two capped streams. */
export function outputOf(stdout: CappedOutput, stderr: CappedOutput) {
  return {
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdoutBytes: stdout.total,
    stderrBytes: stderr.total,
    outputTruncated: stdout.truncated || stderr.truncated,
  };
}
