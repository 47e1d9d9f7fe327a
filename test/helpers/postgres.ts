import { Pool } from 'pg';
import { silentLogger } from '../../src/logger';
import { EmbeddedPostgres, ensureDatabase } from '../../src/store/embedded-postgres';
import { startThrowawayPostgres } from './throwaway-postgres';
import { openStore, Store } from '../../src/store/store';

/** This test file's own PostgreSQL server: started on first use, stopped after the file's tests (see setup.ts). */
let server: Promise<EmbeddedPostgres> | undefined;
let databases = 0;
const stores: Store[] = [];
const pools: Pool[] = [];

/** A new, empty database on this file's server: each test setup gets its own store. */
export async function testDatabaseUrl(): Promise<string> {
  server ??= startThrowawayPostgres();
  const url = (await server).url(`capa_test_${++databases}`);
  await ensureDatabase(url);
  return url;
}

/** A store on the URL, closed after the file's tests. */
export async function testStore(url: string): Promise<Store> {
  const store = await openStore(url, silentLogger);
  stores.push(store);
  return store;
}

/**
 * Plain SQL on a test database, for what no capa-sync code may do (alter a table, bypass a trigger): the store
 * itself gives out no connection. Closed after the file's tests.
 */
export function testSql(url: string): Pool {
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
