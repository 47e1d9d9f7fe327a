import { Pool, type PoolClient } from 'pg';
import type { Logger } from '../observability/logger';
import { MIGRATIONS, runtimeGrants } from './schema';
import { poolSession, type Session } from './session';

/** The store cannot be used: unreachable, refusing the credentials, or not a PostgreSQL database we may use. */
export class StoreUnavailable extends Error {}

/** The database URL as messages may show it: never the password. */
export function displayDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'an unparseable URL';
  }
}

/** Why a connection failed, in words an operator acts on; the URL is shown without its password. */
export function describeConnectionError(url: string, err: unknown, setting = 'CAPA_DATABASE_URL'): string {
  const e = err as Error & { code?: string };
  const where = `${setting} (${displayDatabaseUrl(url)})`;
  if (e.code === '28P01' || e.code === '28000') return `the database refused the credentials in ${where}`;
  if (e.code === '3D000') return `the database named in ${where} does not exist`;
  // PostgreSQL's own errors carry a five-character SQLSTATE; a socket's code is already in its message.
  const why = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? `${e.code}: ${e.message}` : e.message || String(err);
  return `cannot reach the database at ${where}: ${why}`;
}

/** The role a database URL logs in as. */
export const databaseRole = (url: string) => decodeURIComponent(new URL(url).username);

/** The lock migrations hold, so that workers starting at once apply each migration exactly once. */
const MIGRATION_LOCK = 4_216_004_201;

/**
 * Applies the migrations not yet applied, under an advisory lock (two may run at once), and grants the runtime role
 * what it needs; returns the schema's version before and after.
 */
export async function migrate(pool: Pool, runtimeRole: string): Promise<{ from: number; to: number }> {
  return poolSession(pool).transaction(async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const from = await schemaVersion(db);
    for (let v = from + 1; v <= MIGRATIONS.length; v++) {
      await db.query(MIGRATIONS[v - 1]);
      await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v]);
    }
    for (const grant of runtimeGrants(runtimeRole)) await db.query(grant);
    return { from, to: MIGRATIONS.length };
  });
}

async function schemaVersion(db: Session): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
  );
  return rows[0].version;
}

function poolOn(url: string, logger: Logger, setting: string, max: number): Pool {
  // A burst of record applies (thousands of records unlocked at one tick) queues for the pool's connections: the
  // wait may be long without anything being wrong, so it is allowed a minute (a refused connection fails at once).
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 60_000, idleTimeoutMillis: 30_000 });
  // An idle connection that dies (a database restart) must not take the process with it.
  pool.on('error', (err) =>
    logger.warn('database connection lost', { error: describeConnectionError(url, err, setting) }),
  );
  const open = new Set<PoolClient>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  openConnections.set(pool, open);
  return pool;
}

/** Each pool's connections until they end. */
const openConnections = new WeakMap<Pool, Set<PoolClient>>();

/**
 * Ends a pool once the server has seen each of its connections go. pg's own end() resolves as soon as it has asked
 * them to close: a server stopped right after (the demo's embedded one) would drop them, a "connection lost".
 */
export async function closePool(pool: Pool): Promise<void> {
  const closed = [...(openConnections.get(pool) ?? [])].map(
    (client) => new Promise((resolve) => client.once('end', resolve)),
  );
  await pool.end();
  await Promise.all(closed);
}

/**
 * Brings the store's schema up to date as its owner (CAPA_DATABASE_OWNER_URL), granting the runtime role of
 * CAPA_DATABASE_URL what it needs. The runtime role must be another role: the one that can change the schema can
 * change the trail.
 */
export async function migrateStore(ownerUrl: string, runtimeUrl: string, logger: Logger) {
  const runtime = databaseRole(runtimeUrl);
  if (databaseRole(ownerUrl) === runtime)
    throw new StoreUnavailable(
      `CAPA_DATABASE_OWNER_URL and CAPA_DATABASE_URL both log in as ${runtime}: the workers' role must own nothing (docs/production.md)`,
    );
  const pool = poolOn(ownerUrl, logger, 'CAPA_DATABASE_OWNER_URL', 1);
  try {
    return await migrate(pool, runtime);
  } catch (err) {
    throw new StoreUnavailable(describeConnectionError(ownerUrl, err, 'CAPA_DATABASE_OWNER_URL'));
  } finally {
    await closePool(pool).catch(() => undefined);
  }
}

/**
 * Opens the store as the runtime role: a pool on CAPA_DATABASE_URL, checked by one query and by the schema's
 * version (migrations are the owner's: `capa-sync db migrate`). Fails with a StoreUnavailable that names the setting
 * (never the password). A connection lost later fails only the queries that needed it: the activities that ran them
 * are retried by Temporal.
 */
export async function openDatabase(url: string, logger: Logger, max = 10): Promise<Pool> {
  const pool = poolOn(url, logger, 'CAPA_DATABASE_URL', max);
  let version: number;
  try {
    version = await schemaVersion(poolSession(pool)).catch((err) => {
      if ((err as { code?: string }).code === '42P01') return 0; // no schema_migrations: never migrated
      throw err;
    });
    if (await ownsTheTrail(pool))
      logger.warn(
        'CAPA_DATABASE_URL logs in as the owner of the audit trail (or a superuser), who can change it: give the workers a runtime role (docs/production.md)',
      );
  } catch (err) {
    await closePool(pool).catch(() => undefined);
    throw new StoreUnavailable(describeConnectionError(url, err));
  }
  if (version !== MIGRATIONS.length) {
    await closePool(pool).catch(() => undefined);
    throw new StoreUnavailable(
      version < MIGRATIONS.length
        ? `the store's schema is at version ${version}, this release needs ${MIGRATIONS.length}: run \`capa-sync db migrate\` with CAPA_DATABASE_OWNER_URL (the schema owner's login)`
        : `the store's schema is at version ${version}, newer than this release (${MIGRATIONS.length}): run the release that migrated it`,
    );
  }
  return pool;
}

async function ownsTheTrail(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ owns: boolean }>(
    `SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
       OR coalesce(pg_has_role(current_user, (SELECT tableowner FROM pg_tables WHERE tablename = 'audit_entries'), 'USAGE'), false)
       AS owns`,
  );
  return rows[0].owns;
}
