import fs from 'node:fs';

/** Lines are handed to the file in chunks of about this many characters. */
const CHUNK = 64 * 1024;

/**
 * Writes a file line by line, in large chunks: a stream write per line costs more than the work done per row.
 * `write` waits only when the file is behind (back-pressure), so a large source never piles up in memory.
 */
export class LineWriter {
  private readonly stream: fs.WriteStream;
  private lines: string[] = [];
  private size = 0;

  constructor(file: string) {
    this.stream = fs.createWriteStream(file);
  }

  write(line: string): Promise<void> | undefined {
    this.lines.push(line);
    this.size += line.length + 1;
    return this.size >= CHUNK ? this.flush() : undefined;
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  private flush(): Promise<void> | undefined {
    if (!this.lines.length) return undefined;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.size = 0;
    if (this.stream.write(text)) return undefined;
    return new Promise((resolve) => this.stream.once('drain', resolve));
  }
}
