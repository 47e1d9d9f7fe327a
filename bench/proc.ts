import fs from 'node:fs';

/** A file under /proc, or '' where its process has gone. */
export function readProc(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The machine's process ids, and each one's command line (its arguments joined by spaces). */
export function processes(): { pid: string; command: string }[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((pid) => ({ pid, command: readProc(`/proc/${pid}/cmdline`).replace(/\0/g, ' ') }));
}
