import { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId } from '../src/simulator/seed';
import { startBatch, listRecords } from '../src/cli/operations';
import { recordWorkflowId, statusQuery } from '../src/contracts/record-messages';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { waitFor } from './helpers/wait';
import { captureWebhook, WebhookCapture } from './helpers/webhook';
import { saveHistory } from './helpers/histories';
import fs from 'node:fs';
import type { RowResult } from '../src/contracts/batch-messages';

const LOCKED_STATES = ['under_review_state__c', 'pending_approval_state__c'];
const PRIORITIES = ['High', 'Medium', 'Low'];

let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let ctx: DevStack['ctx'];
let stack: DevStack;
let webhook: WebhookCapture;

beforeAll(async () => {
  webhook = await captureWebhook();
  stack = await startDevStack({
    records: 1000,
    lockedFraction: 0.1,
    taskQueue: 'batch',
    settings: {
      CAPA_TICK_SECONDS: '1',
      ALERT_CHANNEL: 'webhook',
      ALERT_WEBHOOK_URL: webhook.url,
    },
  });
  ({ env, sim, ctx } = stack);
});

afterAll(async () => {
  await stack?.stop();
  webhook?.close();
});

/** Row i targets record i; 2% invalid; rows 990-994 repeat records 0-4 (the later rows win). */
function exportRows(priorityOf: (i: number) => string) {
  return Array.from({ length: 1000 }, (_, i) => {
    const record = i >= 990 && i < 995 ? i - 990 : i;
    return {
      capa_id: sampleRecordId(record),
      priority: i % 50 === 7 ? 'Urgent' : priorityOf(i),
      risk_score: 50,
      due_date: '2027-03-31',
    };
  });
}

const isLocked = (id: string) => LOCKED_STATES.includes(sim.store.records.get(id)!.state__v);

it('accounts for every row of a 1,000-row batch, bulk-updates the unlocked and hands each locked record to one workflow', async () => {
  const rows = exportRows((i) => PRIORITIES[(i + 1) % 3]);
  const callsBefore = { ...sim.calls };
  const handle = await startBatch(env.client, ctx.config, { source: writeCsv(rows), batchId: 'b1' });
  const summary = await handle.result();
  await saveHistory('page-window-batch-1000-rows', handle); // batch-1000-rows.json: from before the page-window patch

  const lastRowOf = new Map(rows.map((r, i) => [r.capa_id, i]));
  const validLast = rows.map((r, i) => ({ ...r, i })).filter((r) => r.i % 50 !== 7 && lastRowOf.get(r.capa_id) === r.i);
  const lockedIds = validLast.filter((r) => isLocked(r.capa_id)).map((r) => r.capa_id);
  expect(summary.inputRows).toBe(1000);
  expect(summary.counts).toEqual({
    rejected: 20,
    superseded: 5,
    waiting: lockedIds.length,
    updated: expect.any(Number),
    unchanged: expect.any(Number),
    failed: 0,
  });
  expect(summary.counts.updated + summary.counts.unchanged).toBe(validLast.length - lockedIds.length);
  expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(1000);

  const report: RowResult[] = [];
  for await (const r of ctx.store.batches.results('b1')) report.push(r);
  expect(report.map((r) => r.row)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  expect(JSON.parse(fs.readFileSync(summary.reports.json, 'utf8'))).toMatchObject({ batchId: 'b1', inputRows: 1000 });
  expect(report[7]).toMatchObject({
    outcome: 'rejected',
    field: 'priority',
    message: expect.stringContaining('must be one of High, Medium, Low'),
  });
  expect(report[0]).toMatchObject({
    outcome: 'superseded',
    recordId: sampleRecordId(0),
    message: 'superseded by row 991',
  });
  expect(fs.readFileSync(summary.reports.failureCsv, 'utf8').split('\r\n').filter(Boolean)).toHaveLength(1 + 25);

  // Vault calls: 2 bulk updates for ~880 unlocked rows, 1 state query, 1 session.
  const calls = (k: string) => (sim.calls[k] ?? 0) - (callsBefore[k] ?? 0);
  expect(calls('bulkUpdate')).toBe(2);
  expect(sim.updateRequestSizes.slice(-2)).toEqual([500, validLast.length - lockedIds.length - 500]);
  expect(calls('auth')).toBeLessThanOrEqual(1);

  const waiting = await waitFor('visibility of the waiting records', async () => {
    const list = await listRecords(env.client, ctx.config, { phase: 'waiting-for-unlock' });
    return list.length === lockedIds.length ? list : undefined;
  });
  expect(waiting.map((w) => w.recordId).sort()).toEqual([...lockedIds].sort());
  expect(waiting.every((w) => w.batchId === 'b1')).toBe(true);

  const digest = await waitFor('the webhook digest', async () =>
    webhook.bodies.find((b) => b.fields.kind === 'batch-digest'),
  );
  expect(digest.text).toContain(
    `capa-sync batch b1: ${summary.counts.updated} updated, ${lockedIds.length} waiting for unlock`,
  );
  expect(digest.text).toContain(`${sampleRecordId(9)}: waiting (under_review_state__c)`);
});

it("starts each record it hands over watched: the batch's read stands for the first check, which runs no activity", async () => {
  const [first] = await listRecords(env.client, ctx.config, { phase: 'waiting-for-unlock' });
  const handle = env.client.workflow.getHandle(recordWorkflowId('capa__c', first.recordId));
  const events = await waitFor('its first wait', async () => {
    const history = (await handle.fetchHistory()).events ?? [];
    return history.some((e) => e.timerStartedEventAttributes) && history;
  });
  // Still locked, so nothing has told it of a change since: not one activity (the watcher read it every second).
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  expect(await handle.query(statusQuery)).toMatchObject({ phase: 'waiting-for-unlock', watched: true, attempts: 0 });
});

it('gives waiting records the newer values of a second batch without a second workflow, then applies each once', async () => {
  const rows = exportRows((i) => PRIORITIES[(i + 2) % 3]);
  const summary = await (await startBatch(env.client, ctx.config, { source: writeCsv(rows), batchId: 'b2' })).result();
  const lockedIds = [...new Set(rows.filter((_, i) => i % 50 !== 7).map((r) => r.capa_id))].filter(isLocked);
  expect(summary.counts.waiting).toBe(lockedIds.length);

  const sample = lockedIds[0];
  const status = await env.client.workflow.getHandle(recordWorkflowId('capa__c', sample)).query(statusQuery);
  const expected = rows.filter((r) => r.capa_id === sample).pop()!.priority;
  expect(status).toMatchObject({ batchId: 'b2', desired: { priority__c: expected } });

  for (const id of lockedIds) {
    const runs = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${recordWorkflowId('capa__c', id)}'` }))
      runs.push(wf);
    expect(runs).toHaveLength(1);
  }

  const auditBefore = sim.store.audit.length;
  for (const id of lockedIds) sim.store.moveState(sim.store.records.get(id)!, 'approved_state__c');
  await waitFor(
    'every record workflow to apply',
    async () => (await listRecords(env.client, ctx.config, { phase: 'applied' })).length >= lockedIds.length,
    90_000,
  );
  const writes = sim.store.audit.slice(auditBefore);
  for (const id of lockedIds) {
    const finalPriority = rows.filter((r) => r.capa_id === id).pop()!.priority;
    expect(sim.store.records.get(id)!.fields.priority__c).toBe(finalPriority);
    expect(writes.filter((a) => a.recordId === id && a.field === 'priority__c').length).toBeLessThanOrEqual(1);
  }
  expect(new Set(writes.map((w) => `${w.recordId}/${w.field}`)).size).toBe(writes.length);

  // The store says what Temporal says: b2's waiting rows were applied, b1's were replaced by b2's values.
  const waitingRows = async (batchId: string) => {
    const found: RowResult[] = [];
    for await (const r of ctx.store.batches.results(batchId, ['waiting'])) found.push(r);
    return found;
  };
  const settled = await waitFor('the store to settle the waiting rows', async () => {
    const found = await waitingRows('b2');
    return found.every((r) => r.resolution === 'applied') ? found : undefined;
  });
  expect(settled.map((r) => r.recordId).sort()).toEqual([...lockedIds].sort());
  expect((await waitingRows('b1')).map((r) => r.resolution)).toEqual(lockedIds.map(() => 'replaced by batch b2'));
});
