import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { stringify } from 'yaml';
import { temporalCliPath } from '../../src/temporal/binaries';
import { startThrowawayPostgres } from '../helpers/throwaway-postgres';
import { waitFor } from '../helpers/wait';
import { makePrivateCa, PrivateCa } from './certificates';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/** The version docker-compose.yml pins (temporalio/auto-setup:<version>), which scripts/temporal-server/ builds. */
export const SERVER_VERSION = /go\.temporal\.io\/server v([\d.]+)/.exec(
  fs.readFileSync(path.join(ROOT, 'scripts/temporal-server/go.mod'), 'utf8'),
)![1];
const SERVER_DIR = path.join(ROOT, '.temporal', `server-${SERVER_VERSION}`);
const SCHEMA_DIR = path.join(SERVER_DIR, 'schema/postgresql/v12');

/** What docker-compose.yml and deploy/postgres-init say, read from them so that the suite follows them. */
const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const POSTGRES_INIT = fs.readFileSync(path.join(ROOT, 'deploy/postgres-init/create-capa-sync-database.sh'), 'utf8');
/** The search attributes compose's temporal-search-attributes service creates. */
export const COMPOSE_SEARCH_ATTRIBUTES = /for sa in ([\w ]+); do/.exec(compose)![1].trim().split(/\s+/);

export interface TemporalCluster {
  /** Everything a capa-sync process or the `temporal` CLI needs to reach the cluster (mTLS, private CA). */
  clientEnv: Record<string, string>;
  /** capa-sync's store, as the workers reach it (its own database and user, as deploy/postgres-init creates). */
  /** capa-sync's database as the workers' login (the runtime role), and as its owner's. */
  databaseUrl: string;
  ownerUrl: string;
  /** The `temporal` CLI against the cluster; resolves with its stdout. */
  temporal(args: string[]): Promise<string>;
  /** kill -9 of the Temporal server, then a start on the same persistence. */
  killAndRestartServer(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What docker-compose.yml runs, without Docker: PostgreSQL (the embedded server) holding Temporal's persistence and
 * SQL visibility, set up by Temporal's sql tool as the auto-setup image does; the Temporal server of compose's
 * version, frontend on mTLS with a private CA; the default namespace and compose's search attributes; and
 * capa-sync's own database and user made by deploy/postgres-init's SQL.
 */
export async function startTemporalCluster(): Promise<TemporalCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-cluster-'));
  const postgres = await startThrowawayPostgres();
  const pg = new URL(postgres.url('postgres'));
  let server: ChildProcess | undefined;
  // The server first, then its database; on a failed start too.
  const stopAll = async () => {
    if (server) await stopProcess(server).catch(() => undefined);
    await postgres.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await superuserSql(postgres.url('postgres'), [
      "CREATE ROLE temporal LOGIN CREATEDB PASSWORD 'temporal'",
      ...capaSyncDatabaseSql(DATABASE_PASSWORDS),
    ]);
    await setUpSchemas(pg.port);
    const ca = makePrivateCa(dir);
    const p = await ports();
    const configDir = writeServerConfig(dir, Number(pg.port), ca, p);
    const clientEnv = {
      TEMPORAL_ADDRESS: `127.0.0.1:${p.frontend}`,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TLS_CLIENT_CERT_PATH: ca.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: ca.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.caCert,
      TEMPORAL_TLS_SERVER_NAME: ca.serverName,
    };
    const start = async () => {
      server = spawnServer(dir, configDir);
      await waitForHealth(clientEnv, () => server!, path.join(dir, 'server.log'));
    };
    await start();
    const temporal = async (args: string[]) =>
      (await run(temporalCliPath(), args, { env: { ...process.env, ...clientEnv }, maxBuffer: 64 << 20 })).stdout;
    // What the auto-setup image does first, then compose's temporal-search-attributes service's command.
    await temporal(['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '1d']);
    for (const sa of COMPOSE_SEARCH_ATTRIBUTES)
      await temporal([
        'operator',
        'search-attribute',
        'create',
        '--namespace',
        'default',
        '--name',
        sa,
        '--type',
        'Keyword',
      ]);
    return {
      clientEnv,
      databaseUrl: `postgres://capa_sync:${DATABASE_PASSWORDS.runtime}@127.0.0.1:${pg.port}/capa_sync`,
      ownerUrl: `postgres://capa_owner:${DATABASE_PASSWORDS.owner}@127.0.0.1:${pg.port}/capa_sync`,
      temporal,
      async killAndRestartServer(whileDown) {
        const exited = new Promise((resolve) => server!.once('exit', resolve));
        server!.kill('SIGKILL');
        await exited;
        await whileDown?.();
        await start();
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function superuserSql(url: string, statements: string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

/** deploy/postgres-init's statements (psql's :'pw' becomes the password literal). */
const DATABASE_PASSWORDS = { owner: 'capa-owner-password', runtime: 'capa-db-password' };

function capaSyncDatabaseSql(passwords: { owner: string; runtime: string }): string[] {
  const sql = /<<'SQL'\n([\s\S]*?)\nSQL/.exec(POSTGRES_INIT)![1];
  return sql
    .replace(/:'owner_pw'/g, `'${passwords.owner}'`)
    .replace(/:'pw'/g, `'${passwords.runtime}'`)
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The auto-setup image's schema steps: create each database, set up the base schema, apply the versioned ones. */
async function setUpSchemas(port: string): Promise<void> {
  const tool = path.join(SERVER_DIR, 'temporal-sql-tool');
  for (const [db, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ]) {
    const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', port, '-u', 'temporal', '--pw', 'temporal'];
    await run(tool, [...base, '--db', db, 'create-database']);
    await run(tool, [...base, '--db', db, 'setup-schema', '-v', '0.0']);
    await run(tool, [...base, '--db', db, 'update-schema', '-d', path.join(SCHEMA_DIR, schema, 'versioned')]);
  }
}

type Ports = Record<
  | 'frontend'
  | 'frontendMembership'
  | 'frontendHttp'
  | 'history'
  | 'historyMembership'
  | 'matching'
  | 'matchingMembership'
  | 'worker'
  | 'workerMembership',
  number
>;

/**
 * Free ports for the server's services, below 32768: Temporal keeps membership ports in a smallint column, and the
 * kernel's ephemeral ports (what port 0 gives) start above it.
 */
async function ports(): Promise<Ports> {
  const names = [
    'frontend',
    'frontendMembership',
    'frontendHttp',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
  ] as const;
  const taken = new Set<number>();
  const entries: Array<[string, number]> = [];
  for (const name of names) {
    let port: number;
    do port = 20_000 + Math.floor(Math.random() * 12_000);
    while (taken.has(port) || !(await bindable(port)));
    taken.add(port);
    entries.push([name, port]);
  }
  return Object.fromEntries(entries) as Ports;
}

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/** config/cluster.yaml: compose's postgres12 setup (the module's development-postgres12.yaml), on free ports. */
function writeServerConfig(dir: string, pgPort: number, ca: PrivateCa, p: Ports): string {
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir);
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pgPort}`,
      connectProtocol: 'tcp',
      user: 'temporal',
      password: 'temporal',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const client = { serverName: ca.serverName, rootCaFiles: [ca.caCert] };
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': sql('temporal', 20), 'postgres-visibility': sql('temporal_visibility', 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      tls: {
        frontend: {
          server: {
            certFile: ca.serverCert,
            keyFile: ca.serverKey,
            requireClientAuth: true,
            clientCaFiles: [ca.caCert],
          },
          client,
        },
        systemWorker: { certFile: ca.clientCert, keyFile: ca.clientKey, client },
      },
    },
    services: {
      frontend: rpc(p.frontend, p.frontendMembership, { httpPort: p.frontendHttp }),
      matching: rpc(p.matching, p.matchingMembership),
      history: rpc(p.history, p.historyMembership),
      worker: rpc(p.worker, p.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${p.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
  };
  fs.writeFileSync(path.join(configDir, 'cluster.yaml'), stringify(config));
  return configDir;
}

function spawnServer(dir: string, configDir: string): ChildProcess {
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const args = [
    '--root',
    dir,
    '--config',
    path.relative(dir, configDir),
    '--env',
    'cluster',
    '--allow-no-auth',
    'start',
  ];
  return spawn(path.join(SERVER_DIR, 'temporal-server'), args, { stdio: ['ignore', log, log] });
}

/** compose's health check: `temporal operator cluster health` says SERVING. */
async function waitForHealth(env: Record<string, string>, server: () => ChildProcess, log: string): Promise<void> {
  await waitFor(
    'the Temporal server to serve',
    async () => {
      if (server().exitCode !== null) {
        const lines = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3);
        const tail = lines
          .map((l) => /"msg":"([^"]*)".*?"error":"([^"]*)"/.exec(l)?.slice(1).join(': ') ?? l)
          .join('\n');
        throw new Error(`the Temporal server exited (${server().exitCode}):\n${tail}`);
      }
      const health = await run(temporalCliPath(), ['operator', 'cluster', 'health'], {
        env: { ...process.env, ...env },
      }).catch(() => ({ stdout: '' }));
      return health.stdout.includes('SERVING');
    },
    120_000,
    500,
  );
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
