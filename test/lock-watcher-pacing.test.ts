import { lockWatcherId } from '../src/contracts/lock-watch';
import { recordWorkflowId } from '../src/contracts/record-messages';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { testSql } from './helpers/postgres';
import { waitFor } from './helpers/wait';
import { ONE_VALUE_EXPORTS } from './helpers/gate';

// A mass approval larger than the watcher's window: the watcher tells the unlocked records as the workers settle
// those it told before, never more at once than the window, and every record is written.

const WINDOW = 20;
const id = (i: number) => sampleRecordId(i);

let stack: DevStack;
beforeAll(async () => {
  const settings = { CAPA_TICK_SECONDS: '5', CAPA_WATCH_WINDOW: String(WINDOW), ...ONE_VALUE_EXPORTS };
  stack = await startDevStack({ records: 120, lockedFraction: 0, taskQueue: 'pacing', settings });
}, 300_000);
afterAll(() => stack?.stop());

const record = (i: number) => stack.sim.store.records.get(id(i))!;

/** When the watcher told a record of its unlock, and at which tick: its last lockChanged signal, from its history. */
async function toldAt(i: number): Promise<{ at: number; tickAt: number }> {
  const { events } = await stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', id(i))).fetchHistory();
  const signals = (events ?? []).filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'lockChanged',
  );
  const last = signals[signals.length - 1];
  const { seconds, nanos } = last.eventTime!;
  const news = JSON.parse(
    Buffer.from(last.workflowExecutionSignaledEventAttributes!.input!.payloads![0].data!).toString(),
  );
  return { at: Number(seconds) * 1000 + Math.floor((nanos ?? 0) / 1e6), tickAt: news.tickAt };
}

/**
 * Hands records `from`..`from + n - 1` to their workflows, approves them all at once, and waits until every one is
 * settled: then says when each was told and settled, and the bulk updates that carried them.
 */
async function approveAtOnce(batchId: string, from: number, n: number) {
  const all = Array.from({ length: n }, (_, i) => from + i);
  for (const i of all) stack.sim.store.moveState(record(i), 'under_review_state__c');
  const rows = all.map((i) => ({ capa_id: id(i), priority: 'High', risk_score: 42 }));
  const batch = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId });
  expect((await batch.result()).counts).toMatchObject({ waiting: n });
  const differed = all.filter((i) => record(i).fields.risk_score__c !== 42 || record(i).fields.priority__c !== 'High');
  const sizesBefore = stack.sim.updateRequestSizes.length;

  for (const i of all) stack.sim.store.moveState(record(i), 'closed_state__c');
  const settled = async () =>
    (
      await testSql(stack.ctx.config.databaseUrl).query<{ record_id: string; resolved_at: Date | null }>(
        'SELECT record_id, resolved_at FROM batch_rows WHERE batch_id = $1',
        [batchId],
      )
    ).rows;
  await waitFor('every approved record settled', async () => (await settled()).every((r) => r.resolved_at), 180_000);
  expect(all.filter((i) => record(i).fields.risk_score__c !== 42)).toEqual([]);
  const resolvedAt = new Map((await settled()).map((r) => [r.record_id, r.resolved_at!.getTime()]));
  const told = await Promise.all(all.map(async (i) => ({ ...(await toldAt(i)), settled: resolvedAt.get(id(i))! })));
  // At each tell, the records told by then and not yet settled.
  const inFlight = told.map(({ at }) => told.filter((r) => r.at <= at && r.settled > at).length);
  const sizes = stack.sim.updateRequestSizes.slice(sizesBefore);
  return { inFlight, ticks: new Set(told.map((r) => r.tickAt)).size, sizes, differed: differed.length };
}

it('tells a mass approval at most the window at a time, as the workers settle it, and writes every record', async () => {
  const { inFlight, sizes, differed } = await approveAtOnce('paced', 0, 60);
  expect(Math.max(...inFlight)).toBeLessThanOrEqual(WINDOW);
  // No bulk update carries more records than were in flight; together they carry every record that differed.
  expect(sizes.filter((n) => n > WINDOW)).toEqual([]);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(differed);
});

/** The unlocked records each of the watcher's ticks left to the next, from its activities' results. */
async function deferredByTicks(): Promise<number[]> {
  const { events } = await stack.env.client.workflow.getHandle(lockWatcherId('capa__c')).fetchHistory();
  return (events ?? []).flatMap((e) => {
    const data = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
    return data ? [JSON.parse(Buffer.from(data).toString()).deferred] : [];
  });
}

it('leaves what a tick has no time to tell to the next tick, and says so', async () => {
  // Each Vault call takes 1.5 s: a tick of 5 s has no time for three rounds of the window.
  stack.sim.setFaults({ latencyMs: 1500 });
  try {
    const before = (await deferredByTicks()).length;
    const { inFlight, ticks, sizes, differed } = await approveAtOnce('paced-slow', 60, 60);
    expect(ticks).toBeGreaterThan(1);
    expect((await deferredByTicks()).slice(before).some((n) => n > 0)).toBe(true);
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(WINDOW);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(differed);
  } finally {
    stack.sim.setFaults({ latencyMs: 0 });
  }
});
