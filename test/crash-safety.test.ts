import { WorkflowHandle } from '@temporalio/client';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { startRecordWorkflow } from './helpers/record-env';
import { waitFor } from './helpers/wait';
import { testSql } from './helpers/postgres';

// A write that Vault took, followed by a failure before capa-sync wrote down what it did (a worker killed, the
// database failing): the retry must still report the row as updated and audit each change exactly once.

const RECORDS = 10;
let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack({ records: RECORDS, lockedFraction: 0, taskQueue: 'crash' });
});

afterAll(async () => {
  await stack?.stop();
});

/** Makes the database refuse inserts into a table (those `when` matches: a real failure of the store) until unblocked. */
async function blockInserts(table: string, when = 'true'): Promise<() => Promise<void>> {
  const db = testSql(stack.ctx.config.databaseUrl);
  await db.query(`CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'test: inserts into % refused', TG_TABLE_NAME; END $$`);
  await db.query(`CREATE TRIGGER test_block BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${when})
    EXECUTE FUNCTION refuse_insert()`);
  return async () => {
    await db.query(`DROP TRIGGER test_block ON ${table}`);
    await db.query('DROP FUNCTION refuse_insert()');
  };
}

/** Waits until the workflow's running activity has failed once (it is then waiting for its retry). */
async function untilActivityFailedOnce(handle: WorkflowHandle): Promise<void> {
  await waitFor('a failed activity attempt', async () => {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    return pending.some((a) => (a.attempt ?? 0) >= 2 && a.lastFailure);
  });
}

const exportOf = (ids: string[]) =>
  writeCsv(ids.map((capa_id) => ({ capa_id, priority: 'Low', risk_score: 99, due_date: '2027-06-30' })));

const vaultWrites = (recordId: string) =>
  stack.sim.store.audit.filter((a) => a.recordId === recordId && a.user === 'sync.user@example.com');

const EXPORTED = { priority__c: 'Low', risk_score__c: 99, due_date__c: '2027-06-30' };
const fieldsOf = (ids: string[]) => new Map(ids.map((id) => [id, { ...stack.sim.store.records.get(id)!.fields }]));
/** [record, field, old, new] of each exported value that differs from what the record held before. */
const changesFrom = (before: ReturnType<typeof fieldsOf>) =>
  [...before].flatMap(([id, fields]) =>
    Object.entries(EXPORTED)
      .filter(([field, value]) => fields[field] !== value)
      .map(([field, value]) => [id, field, fields[field], value]),
  );

const auditOf = (batchId: string) => stack.ctx.store.audit.writes({ batchId });

it('reports and audits a page written by an attempt that failed before recording it', async () => {
  const ids = Array.from({ length: RECORDS }, (_, i) => sampleRecordId(i));
  const before = fieldsOf(ids);
  const unblock = await blockInserts('audit_entries');
  const handle = await startBatch(stack.env.client, stack.ctx.config, { source: exportOf(ids), batchId: 'crash-1' });
  await untilActivityFailedOnce(handle);
  expect(ids.every((id) => stack.sim.store.records.get(id)!.fields.priority__c === 'Low')).toBe(true);
  await unblock();

  const summary = await handle.result();
  expect(summary.counts).toMatchObject({ updated: RECORDS, unchanged: 0, failed: 0 });
  const entries = await auditOf('crash-1');
  expect(entries.map((e) => [e.recordId, e.field, e.oldValue, e.newValue]).sort()).toEqual(changesFrom(before).sort());
  // The retry did not send the rows again: Vault saw each record written once.
  for (const id of ids) expect(vaultWrites(id).filter((w) => w.field === 'priority__c').length).toBeLessThanOrEqual(1);
});

it('does not audit a page twice when it failed after appending its audit entries', async () => {
  const ids = Array.from({ length: RECORDS }, (_, i) => sampleRecordId(i));
  for (const id of ids) stack.sim.store.editByHand(id, { priority__c: 'High' }, 'someone@example.com');
  // The page fails after the bulk update and the audit append, marking itself applied: its transaction takes
  // the audit entries back with it. (Its plan, for the gate, is kept in the same table and goes through.)
  const unblock = await blockInserts('batch_pages', 'NEW.applied_at IS NOT NULL');
  const handle = await startBatch(stack.env.client, stack.ctx.config, { source: exportOf(ids), batchId: 'crash-2' });
  await untilActivityFailedOnce(handle);
  expect(await auditOf('crash-2')).toEqual([]);
  await unblock();

  const summary = await handle.result();
  expect(summary.counts).toMatchObject({ updated: RECORDS, unchanged: 0 });
  const entries = await auditOf('crash-2');
  expect(entries.map((e) => [e.recordId, e.field, e.oldValue, e.newValue]).sort()).toEqual(
    ids.map((id) => [id, 'priority__c', 'High', 'Low']).sort(),
  );
});

it("audits a record workflow's write once when the attempt that made it failed", async () => {
  const id = sampleRecordId(0);
  const rec = stack.sim.store.records.get(id)!;
  stack.sim.store.moveState(rec, 'under_review_state__c');
  const baseline = { ...rec.fields };
  const handle = await startRecordWorkflow(stack.env, 'crash', {
    recordId: id,
    desired: { priority__c: 'Medium', risk_score__c: 7 },
    baseline,
    batchId: 'crash-3',
    options: { tickScheduleSeconds: [1] },
  });
  const unblock = await blockInserts('audit_entries');
  stack.sim.store.moveState(rec, 'approved_state__c');
  await untilActivityFailedOnce(handle);
  expect(rec.fields).toMatchObject({ priority__c: 'Medium', risk_score__c: 7 });
  await unblock();

  expect(await handle.result()).toMatchObject({ phase: 'applied' });
  const entries = await auditOf('crash-3');
  expect(entries.map((e) => [e.recordId, e.field, e.oldValue, e.newValue, e.actor]).sort()).toEqual(
    [
      [id, 'priority__c', baseline.priority__c, 'Medium', 'integration'],
      [id, 'risk_score__c', baseline.risk_score__c, 7, 'integration'],
    ].sort(),
  );
  expect(new Set(entries.map((e) => e.writeId)).size).toBe(1);
});

describe('a write Vault applied but whose answer was lost', () => {
  // The stack's Vault timeout is 2 s: the simulator applies the write, then holds its answer for 3 s.
  const loseNextWrite = () => stack.sim.setFaults({ next: ['lost-answer'], hangMs: 3_000 });

  it('is reported updated and audited once in a batch, without being sent again', async () => {
    const ids = Array.from({ length: RECORDS }, (_, i) => sampleRecordId(i));
    for (const id of ids) stack.sim.store.editByHand(id, { priority__c: 'High' }, 'someone@example.com');
    const before = fieldsOf(ids);
    const writesBefore = stack.sim.store.audit.length;
    loseNextWrite();
    const handle = await startBatch(stack.env.client, stack.ctx.config, { source: exportOf(ids), batchId: 'lost-1' });
    const summary = await handle.result();
    expect(summary.counts).toMatchObject({ updated: RECORDS, unchanged: 0, failed: 0 });
    const entries = await auditOf('lost-1');
    expect(entries.map((e) => [e.recordId, e.field, e.oldValue, e.newValue]).sort()).toEqual(
      changesFrom(before).sort(),
    );
    // Vault took one write per changed field: nothing was sent twice.
    expect(stack.sim.store.audit.length - writesBefore).toBe(entries.length);
  });

  it("is audited once in a record workflow's apply", async () => {
    const id = sampleRecordId(1);
    const rec = stack.sim.store.records.get(id)!;
    stack.sim.store.editByHand(id, { priority__c: 'High' }, 'someone@example.com');
    const handle = await startRecordWorkflow(stack.env, 'crash', {
      recordId: id,
      desired: { priority__c: 'Medium' },
      baseline: { priority__c: 'High' },
      batchId: 'lost-2',
      options: { tickScheduleSeconds: [1] },
    });
    loseNextWrite();
    expect(await handle.result()).toMatchObject({ phase: 'applied' });
    expect(rec.fields.priority__c).toBe('Medium');
    expect((await auditOf('lost-2')).map((e) => [e.recordId, e.field, e.oldValue, e.newValue])).toEqual([
      [id, 'priority__c', 'High', 'Medium'],
    ]);
  });
});

it('hands a row Vault keeps answering RACE_CONDITION to its record workflow, which writes it once Vault lets it', async () => {
  const ids = Array.from({ length: RECORDS }, (_, i) => sampleRecordId(i));
  for (const id of ids) stack.sim.store.editByHand(id, { priority__c: 'Medium' }, 'someone@example.com');
  stack.sim.setFaults({ raceConditionRate: 1 });
  const summary = await (
    await startBatch(stack.env.client, stack.ctx.config, { source: exportOf(ids), batchId: 'race-1' })
  ).result();
  expect(summary.counts).toMatchObject({ waiting: RECORDS, failed: 0, updated: 0 });
  stack.sim.setFaults({ raceConditionRate: 0 });
  await waitFor('every record written by its workflow', async () =>
    ids.every((id) => stack.sim.store.records.get(id)!.fields.priority__c === 'Low'),
  );
});
