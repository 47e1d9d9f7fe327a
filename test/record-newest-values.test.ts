import { WorkflowIdReusePolicy } from '@temporalio/client';
import { capaRecordWorkflow } from '../src/workflows/record';
import {
  DEFAULT_RECORD_OPTIONS,
  DesiredValues,
  recordWorkflowId,
  RecordWorkflowInput,
  setDesiredValuesSignal,
  statusQuery,
} from '../src/contracts/record-messages';
import { useTimeSkippingStack } from './helpers/time-skipping-stack';
import { startRecordWorkflow, testWorker } from './helpers/record-env';
import { saveHistory } from './helpers/histories';
import { waitFor } from './helpers/wait';

// Newest wins: values that reach a record workflow while it writes, or after its write, are written too; and the
// values capa-sync itself wrote are never taken for a reviewer's edit.

const LOCKED = 'under_review_state__c';
const APPROVED = 'approved_state__c';
const FAST_TICKS = { tickScheduleSeconds: [1] };

const stack = useTimeSkippingStack();
let queue = 0;
const nextQueue = () => `newest-${++queue}`;

const integrationWrites = (id: string) =>
  stack.sim.store.audit.filter((a) => a.recordId === id && a.user === 'sync.user@example.com');

/** What a later batch hands over: its values, and the Vault values it read (possibly before our write). */
const batch2 = (desired: DesiredValues['desired'], baseline: DesiredValues['baseline']): DesiredValues => ({
  desired,
  baseline,
  sourceTimestamp: '2026-11-25T01:00:00.000Z',
  batchId: 'batch-2',
});

/** As the batch hands a record over: signal-with-start, starting a new run where the last one has ended. */
function handOver(taskQueue: string, recordId: string, values: DesiredValues) {
  const input: RecordWorkflowInput = {
    object: 'capa__c',
    recordId,
    options: { ...DEFAULT_RECORD_OPTIONS, ...FAST_TICKS },
    ...values,
  };
  return stack.env.client.workflow.signalWithStart(capaRecordWorkflow, {
    workflowId: recordWorkflowId('capa__c', recordId),
    taskQueue,
    args: [input],
    signal: setDesiredValuesSignal,
    signalArgs: [values],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
}

/** Waits until the workflow stops waiting or applying, and returns its status. */
async function settled(h: Awaited<ReturnType<typeof handOver>>) {
  await waitFor('the record workflow to settle', async () =>
    ['applied', 'needs-decision', 'failed', 'cancelled'].includes((await h.query(statusQuery)).phase),
  );
  return h.query(statusQuery);
}

it('writes values that arrive while its write is in flight, and takes its own write for its own', async () => {
  stack.sim.store.seed([{ id: 'A1', state__v: APPROVED, fields: { priority__c: 'Low' } }]);
  const taskQueue = nextQueue();
  const { worker, audit } = await testWorker(stack.env, stack.sim, taskQueue);
  await worker.runUntil(async () => {
    stack.sim.setFaults({ latencyMs: 1_000 }); // each Vault call takes a second: time to arrive mid-write
    const h = await startRecordWorkflow(stack.env, taskQueue, {
      recordId: 'A1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
      options: FAST_TICKS,
    });
    // Its guarded write reads (a second), then writes (another): the new values come while it is in flight.
    const reads = stack.sim.calls.query ?? 0;
    await waitFor('the write to be in flight', async () => (stack.sim.calls.query ?? 0) > reads, 10_000, 20);
    // Batch 2 read the record before this write landed: its baseline is the old value.
    await h.signal(setDesiredValuesSignal, batch2({ priority__c: 'Medium' }, { priority__c: 'Low' }));
    stack.sim.setFaults({ latencyMs: 0 });
    expect(await h.result()).toMatchObject({ phase: 'applied' });
    expect(await h.query(statusQuery)).toMatchObject({ desired: { priority__c: 'Medium' }, batchId: 'batch-2' });
    await saveHistory('guarded-newer-values-during-apply', h);
  });
  expect(stack.sim.store.records.get('A1')!.fields.priority__c).toBe('Medium');
  expect(integrationWrites('A1').map((a) => [a.oldValue, a.newValue])).toEqual([
    ['Low', 'High'],
    ['High', 'Medium'],
  ]);
  expect((await audit.writes()).map((e) => [e.recordId, e.oldValue, e.newValue, e.batchId])).toEqual([
    ['A1', 'Low', 'High', 'batch-1'],
    ['A1', 'High', 'Medium', 'batch-2'],
  ]);
});

describe('a new run for a record whose last run has ended', () => {
  /**
   * Night 1's run writes the record and ends; the record is locked again, and night 2 (which read the record before
   * that write) hands it over with newer values; `duringReview` runs before the record is approved.
   */
  async function secondNight(id: string, duringReview: () => void) {
    const first = { priority__c: 'Low', risk_score__c: 10 };
    stack.sim.store.seed([{ id, state__v: APPROVED, fields: first }]);
    const taskQueue = nextQueue();
    const ctx = await testWorker(stack.env, stack.sim, taskQueue);
    const status = await ctx.worker.runUntil(async () => {
      const night1 = await startRecordWorkflow(stack.env, taskQueue, {
        recordId: id,
        desired: { priority__c: 'High', risk_score__c: 50 },
        baseline: first,
        options: FAST_TICKS,
      });
      expect(await night1.result()).toMatchObject({ phase: 'applied' });
      const rec = stack.sim.store.records.get(id)!;
      stack.sim.store.moveState(rec, LOCKED);
      const h = await handOver(taskQueue, id, batch2({ priority__c: 'Medium', risk_score__c: 60 }, first));
      duringReview();
      stack.sim.store.moveState(rec, APPROVED);
      const settledStatus = await settled(h);
      await saveHistory(`guarded-second-night-${settledStatus.phase}`, h);
      return settledStatus;
    });
    return { status, alerts: ctx.alerts.sent, fields: stack.sim.store.records.get(id)!.fields };
  }

  it("applies newer values over capa-sync's own earlier write, with a baseline read before that write", async () => {
    const { status, alerts, fields } = await secondNight('B1', () => undefined);
    expect(status.phase).toBe('applied');
    expect(status.needsDecision).toBeUndefined();
    expect(alerts).toEqual([]);
    expect(fields).toMatchObject({ priority__c: 'Medium', risk_score__c: 60 });
  });

  it("still stops for a reviewer's edit made after capa-sync's write, naming only the edited field", async () => {
    const edit = () => stack.sim.store.editByHand('B2', { risk_score__c: 77 }, 'reviewer@example.com');
    const { status, alerts, fields } = await secondNight('B2', edit);
    expect(status).toMatchObject({
      phase: 'needs-decision',
      needsDecision: { reason: 'conflict', fields: ['risk_score__c'] },
    });
    expect(alerts.map((a) => a.fields.reason)).toEqual(['conflict']);
    expect(fields).toMatchObject({ priority__c: 'High', risk_score__c: 77 });
  });
});

it('writes values that arrive after the run reached its end but before it closed, in a new run', async () => {
  // The run fails permanently (Vault refuses the picklist value) and alerts; the alert's activity holds until the
  // newer values have reached the ending run.
  let release = () => {};
  let alertReceived = () => {};
  const received = new Promise<void>((resolve) => (alertReceived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  stack.sim.store.seed([{ id: 'E1', state__v: APPROVED, fields: { priority__c: 'Low' } }]);
  const taskQueue = nextQueue();
  const { worker } = await testWorker(stack.env, stack.sim, taskQueue, {
    enqueueAlert: async () => {
      alertReceived();
      await released;
    },
  });
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(stack.env, taskQueue, {
      recordId: 'E1',
      desired: { priority__c: 'Urgent' },
      baseline: { priority__c: 'Low' },
      options: FAST_TICKS,
    });
    await received;
    expect((await h.query(statusQuery)).phase).toBe('failed');
    await h.signal(setDesiredValuesSignal, batch2({ priority__c: 'Medium' }, { priority__c: 'Low' }));
    release();
    const next = stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', 'E1'));
    await waitFor('the next run to apply', async () => (await next.query(statusQuery)).phase === 'applied');
    expect(await next.query(statusQuery)).toMatchObject({ batchId: 'batch-2', desired: { priority__c: 'Medium' } });
    await saveHistory(
      'guarded-late-values-new-run',
      stack.env.client.workflow.getHandle(h.workflowId, h.firstExecutionRunId),
    );
  });
  expect(stack.sim.store.records.get('E1')!.fields.priority__c).toBe('Medium');
});

it("never writes older values over a newer batch's values that capa-sync already wrote", async () => {
  // Overlapping nights: night 2 wrote the record in bulk; night 1's hand-off of it arrives afterwards.
  const { sim, env } = stack;
  sim.store.seed([{ id: 'O1', state__v: APPROVED, fields: { priority__c: 'Low', risk_score__c: 10 } }]);
  const taskQueue = nextQueue();
  const { worker, alerts } = await testWorker(env, sim, taskQueue);
  await worker.runUntil(async () => {
    const night2 = await handOver(taskQueue, 'O1', batch2({ priority__c: 'Medium', risk_score__c: 60 }, {}));
    expect(await night2.result()).toMatchObject({ phase: 'applied' });
    const night1 = await handOver(taskQueue, 'O1', {
      desired: { priority__c: 'High', risk_score__c: 50 },
      baseline: { priority__c: 'Low', risk_score__c: 10 },
      sourceTimestamp: '2026-11-24T01:00:00.000Z',
      batchId: 'batch-1',
    });
    expect(await settled(night1)).toMatchObject({ phase: 'applied' });
    expect(alerts.sent).toEqual([]);
  });
  expect(sim.store.records.get('O1')!.fields).toMatchObject({ priority__c: 'Medium', risk_score__c: 60 });
  expect(integrationWrites('O1').map((a) => a.newValue)).toEqual(['Medium', 60]);
});

it('reads Vault again when new values take a record out of needs-decision: an edit made meanwhile is kept', async () => {
  // Night 1 stops on a reviewer's edit of the priority. While the record waits for a decision, a reviewer also edits
  // its risk score; night 2 agrees with the new priority. What Vault held when night 1 stopped is not what the
  // guard compares: it reads again, finds the second edit and stops, writing nothing over it.
  const id = 'N1';
  const before = { priority__c: 'Low', risk_score__c: 10 };
  stack.sim.store.seed([{ id, state__v: APPROVED, fields: { ...before, priority__c: 'Medium' } }]);
  const taskQueue = nextQueue();
  const ctx = await testWorker(stack.env, stack.sim, taskQueue);
  await ctx.worker.runUntil(async () => {
    const h = await handOver(taskQueue, id, {
      ...batch2({ priority__c: 'High', risk_score__c: 42 }, before),
      batchId: 'batch-1',
      sourceTimestamp: '2026-11-24T01:00:00.000Z',
    });
    expect(await settled(h)).toMatchObject({ phase: 'needs-decision', needsDecision: { fields: ['priority__c'] } });
    stack.sim.store.editByHand(id, { risk_score__c: 77 }, 'reviewer@example.com');
    await h.signal(setDesiredValuesSignal, batch2({ priority__c: 'Medium', risk_score__c: 42 }, before));
    await waitFor('the record to stop again, on the risk score', async () => {
      const s = await h.query(statusQuery);
      return (
        s.phase === 'needs-decision' && s.batchId === 'batch-2' && s.needsDecision?.fields.includes('risk_score__c')
      );
    });
  });
  expect(stack.sim.store.records.get(id)!.fields).toMatchObject({ priority__c: 'Medium', risk_score__c: 77 });
  expect(integrationWrites(id)).toEqual([]);
});
