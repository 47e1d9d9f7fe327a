import http from 'node:http';
import { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId } from '../src/simulator/seed';
import { startBatch } from '../src/cli/operations';
import { batchWorkflowId } from '../src/contracts/batch-messages';
import { cancelSignal, recordWorkflowId } from '../src/contracts/record-messages';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { runHistories, runLengths, saveHistory } from './helpers/histories';

let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let ctx: DevStack['ctx'];
let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack({
    records: 20_000,
    lockedFraction: 0.01,
    taskQueue: 'scale',
    settings: { CAPA_PAGE_SIZE: '2000', ...ONE_VALUE_EXPORTS },
  });
  ({ env, sim, ctx } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

it('runs a 20,000-row batch over several runs, none with a history near 10,000 events', async () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => ({
    capa_id: sampleRecordId(i),
    priority: 'High',
    risk_score: 42,
    due_date: '2027-06-30',
  }));
  const handle = await startBatch(env.client, ctx.config, { source: writeCsv(rows), batchId: 'big', pagesPerRun: 3 });
  const summary = await handle.result();
  // From the page-window patch on (batch-continued-as-new-first-run.json is the run before it).
  await saveHistory(
    'page-window-batch-continued-as-new-first-run',
    env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId),
  );
  expect(summary.inputRows).toBe(20_000);
  expect(summary.counts.waiting).toBe(200);
  expect(summary.counts.updated + summary.counts.unchanged).toBe(19_800);
  const lengths = await runLengths(env.client, batchWorkflowId('capa__c', 'big'));
  // 10 pages read for the gate, applied, then handed off: 30, a new run once at least 3 are done.
  expect(lengths.length).toBeGreaterThan(1);
  expect(lengths.length).toBeLessThanOrEqual(10);
  lengths.forEach((n) => expect(n).toBeLessThan(10_000));
  // Pages run in a window of 3: the next starts as soon as one ends, not when the slower of a pair does.
  expect(await pagesInFlight(batchWorkflowId('capa__c', 'big'))).toEqual({ most: 3, startedOnAnEnd: true });
  // Cost: each page of 2,000 sends 1,980 unlocked rows in 4 bulk updates (500, 500, 500, 480): ceil(N/500) overall.
  expect(sim.updateRequestSizes).toHaveLength(40);
  expect(sim.updateRequestSizes.reduce((a, b) => a + b, 0)).toBe(19_800);
  for (let i = 99; i < 20_000; i += 100) {
    await env.client.workflow
      .getHandle(recordWorkflowId('capa__c', sampleRecordId(i)))
      .signal(cancelSignal, { operator: 'test', reason: 'cleanup' });
  }
}, 300_000);

it('rejects a malicious export served over HTTP row by row, and applies its valid rows', async () => {
  const items = [
    { capa_id: sampleRecordId(0), priority: 'Low' },
    { capa_id: "x') OR id CONTAINS ('y", priority: 'Low' },
    { capa_id: sampleRecordId(1), priority: 'Low', state__v: 'closed_state__c', owner__c: 'mallory' },
    { capa_id: sampleRecordId(2), priority: '=cmd|"/c calc"!A1' },
    { capa_id: sampleRecordId(3), priority: 'Low', risk_score: 'x'.repeat(5_000_000) },
    { capa_id: sampleRecordId(4), risk_score: 17 },
  ];
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(items));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/export.json`;
  const before = sim.store.audit.length;
  const summary = await (await startBatch(env.client, ctx.config, { source: url, batchId: 'evil' })).result();
  server.close();
  expect(summary.counts).toMatchObject({ rejected: 3, failed: 0 });
  expect(summary.counts.updated + summary.counts.unchanged).toBe(3);
  expect(summary.ignoredColumns).toEqual(['owner__c', 'state__v']);
  const rejected = await ctx.store.batches.firstResults('evil', ['rejected'], 10);
  expect(rejected.map((r) => [r.row, r.field])).toEqual([
    [2, 'capa_id'],
    [4, 'priority'],
    [5, '*'],
  ]);
  const writes = sim.store.audit.slice(before);
  expect(writes.map((w) => w.field).sort()).toEqual(
    ['priority__c', 'priority__c', 'risk_score__c'].slice(0, writes.length).sort(),
  );
  expect(writes.every((w) => w.field !== 'state__v' && w.field !== 'owner__c')).toBe(true);
  expect(sim.store.records.get(sampleRecordId(1))!.state__v).not.toBe('closed_state__c');
  expect(sim.store.records.get(sampleRecordId(4))!.fields.risk_score__c).toBe(17);
});

/**
 * Over every run of a batch: the most page activities in flight at once, and whether a page started once another had
 * ended while others still ran (a window; pairs start the next two only once both have ended).
 */
async function pagesInFlight(workflowId: string) {
  let most = 0;
  let startedOnAnEnd = false;
  for (const events of await runHistories(env.client, workflowId)) {
    const running = new Set<string>();
    let endedSinceStart = false;
    for (const e of events) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      const completed = e.activityTaskCompletedEventAttributes;
      if (scheduled && scheduled.activityType?.name?.endsWith('Page')) {
        startedOnAnEnd ||= endedSinceStart && running.size > 0;
        endedSinceStart = false;
        running.add(String(e.eventId));
        most = Math.max(most, running.size);
      } else if (completed && running.delete(String(completed.scheduledEventId))) endedSinceStart = true;
    }
  }
  return { most, startedOnAnEnd };
}
