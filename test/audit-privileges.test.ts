import type { Pool } from 'pg';
import { changeEntries } from '../src/store/audit-trail';
import type { Store } from '../src/store/store';
import { sqlAs, testDatabaseUrl, testStore } from './helpers/postgres';

// The workers' own login (the runtime role) may add to the trail and read it, and nothing else: each statement
// that would change or hide it is refused by PostgreSQL itself, not by capa-sync's code.
let store: Store;
let runtime: Pool;
beforeAll(async () => {
  const url = await testDatabaseUrl();
  store = await testStore(url);
  runtime = sqlAs(url);
  const common = {
    time: new Date().toISOString(),
    object: 'capa__c',
    recordId: 'R1',
    batchId: 'b1',
    actor: 'integration',
  };
  await store.audit.append(changeEntries(common, { priority__c: 'High' }, { priority__c: 'Low' }), 'w1');
});

it.each([
  'ALTER TABLE audit_entries DISABLE TRIGGER USER',
  'ALTER TABLE audit_entries ADD COLUMN note text',
  'DROP TRIGGER audit_entries_append_only ON audit_entries',
  `UPDATE audit_entries SET new_value = '"Low"'`,
  'DELETE FROM audit_entries',
  'TRUNCATE audit_entries',
  'DROP TABLE audit_entries',
  `DELETE FROM audit_anchors`,
  "SET session_replication_role = 'replica'",
  'CREATE TABLE scratch (x int)',
])('the runtime role is refused: %s', async (statement) => {
  await expect(runtime.query(statement)).rejects.toThrow(/permission denied|must be owner|must be superuser/);
  expect(await store.audit.read()).toHaveLength(1);
});

it('the runtime role holds no table and no superuser right', async () => {
  const { rows } = await runtime.query(
    `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       (SELECT count(*)::int FROM pg_tables WHERE tableowner = current_user) AS owned`,
  );
  expect(rows[0]).toEqual({ superuser: false, owned: 0 });
});
