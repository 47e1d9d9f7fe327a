import { Pool } from 'pg';
import { databaseRole, migrate } from '../src/store/database';
import { MIGRATIONS } from '../src/store/schema';
import { ownerUrlOf, testDatabaseUrl } from './helpers/postgres';

// Two deployments' migrate steps at once: each migration is applied once, and none of them fails.
it('applies each migration once when several migrate at the same moment', async () => {
  const url = await testDatabaseUrl();
  const runtime = databaseRole(url);
  const pools = Array.from({ length: 5 }, () =>
    new Pool({ connectionString: ownerUrlOf(url) }).on('error', () => undefined),
  );
  try {
    await Promise.all(pools.map((pool) => migrate(pool, runtime)));
    await migrate(pools[0], runtime); // and again later: nothing to do
    const { rows } = await pools[0].query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const { rows: tables } = await pools[0].query(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'audit_entries'",
    );
    expect(tables[0].n).toBe(1);
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
  }
});
