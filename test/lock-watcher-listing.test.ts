import { recordWorkflowId, statusQuery } from '../src/contracts/record-messages';
import { startBatch } from '../src/cli/operations';
import { recordWorkflows } from '../src/temporal/record-workflows';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { answered, waitFor } from './helpers/wait';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { testSql } from './helpers/postgres';
import { startRecordWorkflow } from './helpers/record-env';

// Nobody is forgotten: the lock watcher finds the waiting records from the store's own waiting rows, so a record
// workflow that Temporal's visibility does not list (lag, a record not indexed) is read and told all the same.

const TICK_SECONDS = 2;
const id = (i: number) => sampleRecordId(i);
let stack: DevStack;

beforeAll(async () => {
  const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), ...ONE_VALUE_EXPORTS };
  stack = await startDevStack({ records: 10, lockedFraction: 0, taskQueue: 'listing', settings });
}, 300_000);
afterAll(() => stack?.stop());

it('reads and tells a waiting record that the visibility listing misses, and it is written', async () => {
  const record = () => stack.sim.store.records.get(id(0))!;
  stack.sim.store.moveState(record(), 'under_review_state__c');
  const rows = [{ capa_id: id(0), priority: 'High', risk_score: 42 }];
  const batch = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId: 'listed' });
  expect((await batch.result()).counts).toMatchObject({ waiting: 1 });
  // Its workflow goes on under an id the visibility listing of the object's record workflows does not match, as a
  // record visibility has not indexed; the store's waiting row names it.
  const unlisted = `unindexed:${id(0)}`;
  await stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', id(0))).terminate('test: visibility loses it');
  const handle = await startRecordWorkflow(stack.env, 'listing', {
    recordId: id(0),
    workflowId: unlisted,
    desired: { priority__c: 'High', risk_score__c: 42 },
    baseline: { priority__c: record().fields.priority__c, risk_score__c: record().fields.risk_score__c },
    batchId: 'listed',
  });
  await testSql(stack.ctx.config.databaseUrl).query(
    `UPDATE batch_rows SET workflow_id = $1 WHERE batch_id = 'listed'`,
    [unlisted],
  );
  const listed = await recordWorkflows(stack.env.client, { object: 'capa__c', running: true });
  expect(listed.map((r) => r.workflowId)).not.toContain(unlisted);

  // It has taken its first step and sleeps until it is told (or its own next check, hours away).
  await waitFor('the record asleep', async () => !!(await handle.query(statusQuery)).nextCheck);
  stack.sim.store.moveState(record(), 'closed_state__c');
  await waitFor('the unlisted record written', async () => record().fields.risk_score__c === 42, 60_000);
  await waitFor('its workflow applied', async () => (await handle.query(statusQuery)).phase === 'applied');
});

it('writes values that come after a record was applied, in a new run, though the watcher told the run before', async () => {
  const record = () => stack.sim.store.records.get(id(1))!;
  stack.sim.store.moveState(record(), 'under_review_state__c');
  const rows = [{ capa_id: id(1), priority: 'High', risk_score: 42 }];
  const batch = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId: 'first-run' });
  expect((await batch.result()).counts).toMatchObject({ waiting: 1 });
  stack.sim.store.moveState(record(), 'closed_state__c');
  const first = stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', id(1)));
  expect(await first.result()).toMatchObject({ phase: 'applied' });
  // Newer values right after its end, as the run that ends hands them on: a new run, which saw no state of the record.
  const next = await startRecordWorkflow(stack.env, 'listing', {
    recordId: id(1),
    desired: { risk_score__c: 11 },
    baseline: { risk_score__c: 42 },
    batchId: 'first-run',
    sourceTimestamp: new Date().toISOString(),
  });
  await waitFor('the newer value written', async () => record().fields.risk_score__c === 11, 30_000);
  expect(await next.result()).toMatchObject({ phase: 'applied' });
});

it('reads Vault itself at each of its own ticks while the watcher, ticking for the others, never reads it', async () => {
  // Another record waits: the object's watcher ticks, and its row in the store looks healthy throughout.
  stack.sim.store.moveState(stack.sim.store.records.get(id(2))!, 'under_review_state__c');
  const rows = [{ capa_id: id(2), priority: 'High', risk_score: 42 }];
  const batch = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId: 'healthy' });
  expect((await batch.result()).counts).toMatchObject({ waiting: 1 });
  await waitFor('the watcher ticking', async () => (await stack.ctx.store.watchers.last('capa__c'))?.current);
  // A record no waiting row names: the watcher never reads it. Its safety check is 30 s, its own ticks 2 s.
  const record = () => stack.sim.store.records.get(id(3))!;
  stack.sim.store.moveState(record(), 'under_review_state__c');
  const handle = await startRecordWorkflow(stack.env, 'listing', {
    recordId: id(3),
    workflowId: 'unread:' + id(3),
    desired: { priority__c: 'High', risk_score__c: 42 },
    baseline: { priority__c: record().fields.priority__c, risk_score__c: record().fields.risk_score__c },
    vaultState: 'under_review_state__c',
    options: { tickScheduleSeconds: [TICK_SECONDS], safetyCheckSeconds: 30 },
  });
  // The read it began with stands while the watcher ticks (3 of its intervals and a minute); then its own read finds
  // it still locked. Its own reads never stand in for the watcher's: it reads at each of its own ticks from then on,
  // not at its next safety check.
  const attempts = async () => (await answered(handle.query(statusQuery)))?.attempts ?? 0;
  await waitFor('its own read', async () => (await attempts()) > 0, 150_000);
  stack.sim.store.moveState(record(), 'closed_state__c');
  // Within its own ticks (2 s), well before the next safety check (30 s).
  await waitFor('the unread record written', async () => record().fields.risk_score__c === 42, 20_000);
  expect(await stack.ctx.store.watchers.last('capa__c')).toMatchObject({ current: true });
  await waitFor('its workflow applied', async () => (await handle.query(statusQuery)).phase === 'applied');
}, 200_000);
