import { Pool } from 'pg';
import type { Logger } from '../logger';
import { MIGRATIONS } from './schema';
import { poolSession } from './session';

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
export function describeConnectionError(url: string, err: unknown): string {
  const e = err as Error & { code?: string };
  const where = `CAPA_DATABASE_URL (${displayDatabaseUrl(url)})`;
  if (e.code === '28P01' || e.code === '28000') return `the database refused the credentials in ${where}`;
  if (e.code === '3D000') return `the database named in ${where} does not exist`;
  // PostgreSQL's own errors carry a five-character SQLSTATE; a socket's code is already in its message.
  const why = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? `${e.code}: ${e.message}` : e.message || String(err);
  return `cannot reach the database at ${where}: ${why}`;
}

/** The lock migrations hold, so that workers starting at once apply each migration exactly once. */
const MIGRATION_LOCK = 4_216_004_201;

/** Applies the migrations not yet applied, under an advisory lock (several workers may start at once). */
export async function migrate(pool: Pool): Promise<void> {
  await poolSession(pool).transaction(async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await db.query<{ version: number }>(
      'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
    );
    for (let v = rows[0].version + 1; v <= MIGRATIONS.length; v++) {
      await db.query(MIGRATIONS[v - 1]);
      await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v]);
    }
  });
}

/**
 * Opens the store: a pool on CAPA_DATABASE_URL, checked by one query and migrated. Fails with a StoreUnavailable
 * that names the setting (never the password). A connection lost later fails only the queries that needed it:
 * the activities that ran them are retried by Temporal.
 */
export async function openDatabase(url: string, logger: Logger, max = 10): Promise<Pool> {
  // A burst of record applies (thousands of records unlocked at one tick) queues for the pool's connections: the
  // wait may be long without anything being wrong, so it is allowed a minute (a refused connection fails at once).
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 60_000, idleTimeoutMillis: 30_000 });
  // An idle connection that dies (a database restart) must not take the process with it.
  pool.on('error', (err) => logger.warn('database connection lost', { error: describeConnectionError(url, err) }));
  try {
    await pool.query('SELECT 1');
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreUnavailable(describeConnectionError(url, err));
  }
  return pool;
}
