import fs from 'node:fs';

/**
 * Who listens on a local TCP port, for a start that finds it taken: "pid 1234 (node bin/capa-sync.js simulator)".
 * Read from /proc (Linux); elsewhere, or for another user's process, only that something does.
 */
export function portHolder(port: number): string {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!fs.existsSync(table)) continue;
      for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is ADDR:PORT in hex; state 0A is LISTEN.
        if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]);
      }
    }
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const sockets = attempt(() => fs.readdirSync(`/proc/${pid}/fd`), [] as string[]).map((fd) =>
        attempt(() => fs.readlinkSync(`/proc/${pid}/fd/${fd}`), ''),
      );
      if (sockets.some((s) => inodes.has(/^socket:\[(\d+)\]$/.exec(s)?.[1] ?? ''))) {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').replace(/\s+/g, ' ').trim();
        return `pid ${pid} (${cmd.length > 80 ? `${cmd.slice(0, 77)}...` : cmd})`;
      }
    }
  } catch {
    // Not Linux, or /proc unreadable: say what we know.
  }
  return 'another process';
}

/** A process may end, or hide its files, while we look. */
function attempt<T>(read: () => T, otherwise: T): T {
  try {
    return read();
  } catch {
    return otherwise;
  }
}

/** A port that a server of ours needs is taken: names the port, what needed it, and who holds it. */
export class PortInUse extends Error {
  constructor(port: number, what: string) {
    super(`port ${port} (${what}) is in use by ${portHolder(port)}: stop it, or choose another port`);
    this.name = 'PortInUse';
  }
}
