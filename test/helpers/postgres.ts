import { Pool } from 'pg';
import { silentLogger } from '../../src/observability/logger';
import type { EmbeddedPostgres } from '../../src/store/embedded-postgres';
import { migratedDatabase, startThrowawayPostgres } from './throwaway-postgres';
import { openStore, Store } from '../../src/store/store';
import { EMBEDDED_SUPERUSER } from '../../src/store/embedded-defaults';

/** This test file's own PostgreSQL server: started on first use, stopped after the file's tests (see setup.ts). */
let server: Promise<EmbeddedPostgres> | undefined;
let databases = 0;
const stores: Store[] = [];
const pools: Pool[] = [];

/**
 * A new, empty database on this file's server, migrated by its owner (the server's superuser): each test setup gets
 * its own store. The URL logs in as the runtime role, as the workers' does.
 */
export async function testDatabaseUrl(): Promise<string> {
  server ??= startThrowawayPostgres();
  return migratedDatabase(await server, `capa_test_${++databases}`);
}

/** The same database as its owner's (the server's superuser's) login. */
export function ownerUrlOf(url: string): string {
  const owner = new URL(url);
  owner.username = EMBEDDED_SUPERUSER.user;
  owner.password = EMBEDDED_SUPERUSER.password;
  return owner.toString();
}

/** A store on the URL, closed after the file's tests. */
export async function testStore(url: string): Promise<Store> {
  const store = await openStore(url, silentLogger);
  stores.push(store);
  return store;
}

/**
 * Plain SQL on a test database as its owner, for what no capa-sync code may do (alter a table, bypass a trigger):
 * the store itself gives out no connection. Closed after the file's tests.
 */
export function testSql(url: string): Pool {
  return sqlAs(ownerUrlOf(url));
}

/** Plain SQL with exactly the URL's login (the runtime role's, to see what it may not do). */
export function sqlAs(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 2 });
  // As the store's own pool does: an idle connection the server drops (its shutdown at the file's end) is no failure.
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

export async function stopTestDatabases(): Promise<void> {
  await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
  const stopping = server;
  server = undefined;
  if (stopping) await (await stopping).stop();
}
