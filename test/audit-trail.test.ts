import { AuditEntry } from '../src/store/audit-trail';
import type { Store } from '../src/store/store';
import type { Pool } from 'pg';
import { testDatabaseUrl, testSql, testStore } from './helpers/postgres';

const entry = (recordId: string, newValue: string | number, field = 'priority__c'): AuditEntry => ({
  time: '2026-11-24T02:00:00.000Z',
  object: 'capa__c',
  recordId,
  field,
  oldValue: 'Low',
  newValue,
  batchId: 'b1',
  actor: 'integration',
  sourceTimestamp: '2026-11-24T01:00:00.000Z',
});

let store: Store;
let sql: Pool;
beforeEach(async () => {
  const url = await testDatabaseUrl();
  store = await testStore(url);
  sql = testSql(url);
});

it('audits a retried or zombie write once: the attempt that comes second adds nothing', async () => {
  await store.audit.append([entry('R1', 'High'), entry('R1', 7, 'risk_score__c')], 'w1');
  await store.audit.append([entry('R1', 'High'), entry('R1', 7, 'risk_score__c')], 'w1');
  // Two attempts at once (a zombie and its retry): the chain lock and the unique key let one through.
  await Promise.all([
    store.audit.append([entry('R2', 'Medium')], 'w2'),
    store.audit.append([entry('R2', 'Medium')], 'w2'),
  ]);
  expect((await store.audit.read()).map((e) => [e.recordId, e.field, e.newValue, e.writeId])).toEqual([
    ['R1', 'priority__c', 'High', 'w1'],
    ['R1', 'risk_score__c', 7, 'w1'],
    ['R2', 'priority__c', 'Medium', 'w2'],
  ]);
  expect(await store.audit.lastOwnWrites('capa__c', 'R1', ['priority__c', 'due_date__c'], '2026-11-01')).toEqual({
    priority__c: { value: 'High', sourceTimestamp: '2026-11-24T01:00:00.000Z' },
  });
  expect(await store.audit.verify()).toEqual({ entries: 3 });
});

it('refuses UPDATE, DELETE and TRUNCATE of the trail', async () => {
  await store.audit.append([entry('R1', 'High')], 'w1');
  for (const statement of [
    `UPDATE audit_entries SET new_value = '"Low"'`,
    'DELETE FROM audit_entries',
    'TRUNCATE audit_entries',
  ])
    await expect(sql.query(statement)).rejects.toThrow(/append-only/);
  expect(await store.audit.read()).toHaveLength(1);
});

it('audit verify names the first entry edited or removed behind the trigger', async () => {
  for (const [i, id] of ['R1', 'R2', 'R3', 'R4'].entries()) await store.audit.append([entry(id, 'High')], `w${i}`);
  const db = await sql.connect();
  try {
    // Only someone who can switch the trigger off (a superuser) can change the table; the chain still tells.
    await db.query("SET session_replication_role = 'replica'");
    await db.query(`UPDATE audit_entries SET new_value = '"Medium"' WHERE record_id = 'R3'`);
    expect(await store.audit.verify()).toEqual({
      entries: 2,
      broken: { seq: 3, recordId: 'R3', field: 'priority__c', problem: expect.stringContaining('was changed') },
    });
    await db.query(`UPDATE audit_entries SET new_value = '"High"' WHERE record_id = 'R3'`);
    await db.query(`DELETE FROM audit_entries WHERE record_id = 'R2'`);
    expect((await store.audit.verify()).broken).toMatchObject({ seq: 3, problem: expect.stringContaining('removed') });
  } finally {
    db.release();
  }
});
