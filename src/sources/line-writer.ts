import { once } from 'node:events';
import fs from 'node:fs';
import { finished } from 'node:stream/promises';

/** Lines are handed to the file in chunks of about this many characters. */
const CHUNK = 64 * 1024;

/**
 * Writes a file line by line, in large chunks: a stream write per line costs more than the work done per row.
 * `write` waits only when the file is behind (back-pressure), so a large source never piles up in memory.
 * A failed write (a full disk) fails the next write or close, never the process.
 */
export class LineWriter {
  private readonly stream: fs.WriteStream;
  private lines: string[] = [];
  private size = 0;
  private failed?: Error;

  constructor(file: string) {
    this.stream = fs.createWriteStream(file);
    this.stream.on('error', (err) => (this.failed ??= err));
  }

  write(line: string): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    this.lines.push(line);
    this.size += line.length + 1;
    return this.size >= CHUNK ? this.flush() : undefined;
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }

  private flush(): Promise<void> | undefined {
    if (!this.lines.length) return undefined;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.size = 0;
    if (this.stream.write(text)) return undefined;
    return once(this.stream, 'drain').then(() => undefined); // rejects if the stream fails meanwhile
  }
}
