import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines (UTF-8, `\n` or `\r\n`) and calls `onLine` for each complete
 * one, and for the last partial one at `end`. A line over `maxChars` is cut there (the rest up to
 * its newline is dropped), so hostile output cannot grow the buffer. `onLine` errors are ignored.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private skipping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxChars = 64 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  end(): void {
    this.take(this.decoder.end());
    if (this.partial && !this.skipping) this.emit(this.partial);
    this.partial = '';
    this.skipping = false;
  }

  private take(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = this.partial + text.slice(start, nl);
      if (!this.skipping) this.emit(line);
      this.partial = '';
      this.skipping = false;
      start = nl + 1;
    }
    if (this.skipping) return;
    this.partial += text.slice(start);
    if (this.partial.length > this.maxChars) {
      this.emit(this.partial.slice(0, this.maxChars));
      this.partial = '';
      this.skipping = true;
    }
  }

  private emit(line: string): void {
    try {
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch {
      // a consumer's bug must not break the run's output stream
    }
  }
}
