import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Lines are handed to the stream in chunks of about this many characters. */
const CHUNK = 64 * 1024;

/**
 * Writes a stream (here a COPY into PostgreSQL) line by line, in large chunks: a stream write per line costs more
 * than the work done per row. `write` waits only when the stream is behind (back-pressure), so a large source never
 * piles up in memory. A failed stream fails the next write or flush, never the process.
 */
export class LineWriter {
  private lines: string[] = [];
  private size = 0;
  private failed?: Error;

  constructor(private readonly stream: Writable) {
    this.stream.on('error', (err) => (this.failed ??= err));
  }

  write(line: string): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    this.lines.push(line);
    this.size += line.length + 1;
    return this.size >= CHUNK ? this.flush() : undefined;
  }

  /** Hands over what is buffered; the caller ends the stream. */
  flush(): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    if (!this.lines.length) return undefined;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.size = 0;
    if (this.stream.write(text)) return undefined;
    return once(this.stream, 'drain').then(() => undefined); // rejects if the stream fails meanwhile
  }
}
