import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { VaultSimulator } from '../src/simulator/server';
import {
  cancelSignal,
  cancelUpdate,
  forceUpdate,
  setDesiredValuesSignal,
  statusQuery,
} from '../src/contracts/record-messages';
import { startTimeSkippingServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { testWorker, startRecordWorkflow } from './helpers/record-env';
import { runLengths, saveHistory } from './helpers/histories';

const LOCKED = 'under_review_state__c';
const APPROVED = 'approved_state__c';

let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let queue = 0;
const nextQueue = () => `record-${++queue}`;

beforeAll(async () => {
  env = await startTimeSkippingServer();
  sim = await startSimulator();
});
afterAll(async () => {
  await sim?.stop();
  await env?.teardown();
});

function seedLocked(id: string, fields: Record<string, string | number> = { priority__c: 'Low' }) {
  sim.store.seed([{ id, state__v: LOCKED, fields }]);
  return sim.store.records.get(id)!;
}
const vaultAudit = (id: string) => sim.store.audit.filter((a) => a.recordId === id);
const searchAttributes = async (h: { describe(): Promise<{ searchAttributes: Record<string, unknown> }> }) =>
  (await h.describe()).searchAttributes;

it('waits out a lock that clears after 3 days, then applies the change exactly once', async () => {
  const rec = seedLocked('L1');
  const taskQueue = nextQueue();
  const { worker, audit } = await testWorker(env, sim, taskQueue);
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'L1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
    });
    await env.sleep('3 days');
    const waiting = await h.query(statusQuery);
    expect(waiting).toMatchObject({
      phase: 'waiting-for-unlock',
      vaultState: LOCKED,
      desired: { priority__c: 'High' },
    });
    // 12 ticks of 5 min, 12 of 15 min, 12 of 30 min, then hourly: about 100 reads in 3 days, not 864.
    expect(waiting.attempts).toBeGreaterThan(80);
    expect(waiting.attempts).toBeLessThan(110);
    expect(Date.parse(waiting.nextCheck!) % 3_600_000).toBe(0);
    expect(await searchAttributes(h)).toMatchObject({
      CapaSyncState: ['waiting-for-unlock'],
      CapaRecordId: ['L1'],
      CapaVaultState: [LOCKED],
      CapaBatchId: ['batch-1'],
    });
    expect(vaultAudit('L1')).toHaveLength(0);

    sim.store.moveState(rec, APPROVED);
    expect(await h.result()).toMatchObject({ phase: 'applied' });
    expect(await searchAttributes(h)).toMatchObject({ CapaSyncState: ['applied'], CapaVaultState: [APPROVED] });
    await saveHistory('guarded-lock-clears', h);
  });
  expect(vaultAudit('L1').map((a) => [a.field, a.oldValue, a.newValue, a.user])).toEqual([
    ['priority__c', 'Low', 'High', 'sync.user@example.com'],
  ]);
  expect(await audit.writes()).toEqual([
    expect.objectContaining({
      recordId: 'L1',
      field: 'priority__c',
      oldValue: 'Low',
      newValue: 'High',
      actor: 'integration',
      batchId: 'batch-1',
    }),
  ]);
});

it('answers a force while Vault still locks the record, writes nothing and keeps waiting', async () => {
  const rec = seedLocked('F1');
  const taskQueue = nextQueue();
  const { worker } = await testWorker(env, sim, taskQueue);
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'F1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
    });
    await env.sleep('10 minutes');
    await expect(
      h.executeUpdate(forceUpdate, { args: [{ operator: 'qa.lead', reason: 'CAPA board approved' }] }),
    ).resolves.toBe('still locked: waiting');
    const status = await h.query(statusQuery);
    expect(status.phase).toBe('waiting-for-unlock');
    expect(status.decisions).toEqual([
      expect.objectContaining({ kind: 'force', operator: 'qa.lead', result: 'still locked: waiting' }),
    ]);
    expect(vaultAudit('F1')).toHaveLength(0);
    sim.store.moveState(rec, APPROVED);
    expect(await h.result()).toMatchObject({ phase: 'applied' });
    await saveHistory('guarded-force-while-locked', h);
  });
});

describe("a reviewer's edit during the lock", () => {
  async function runToConflict(
    id: string,
    body: (h: Awaited<ReturnType<typeof startRecordWorkflow>>) => Promise<void>,
  ) {
    const rec = seedLocked(id);
    const taskQueue = nextQueue();
    const ctx = await testWorker(env, sim, taskQueue);
    await ctx.worker.runUntil(async () => {
      const h = await startRecordWorkflow(env, taskQueue, {
        recordId: id,
        desired: { priority__c: 'High' },
        baseline: { priority__c: 'Low' },
      });
      await env.sleep('1 hour');
      sim.store.editByHand(id, { priority__c: 'Medium' }, 'reviewer@example.com');
      sim.store.moveState(rec, APPROVED);
      await env.sleep('2 hours');
      const status = await h.query(statusQuery);
      expect(status).toMatchObject({
        phase: 'needs-decision',
        needsDecision: { reason: 'conflict', fields: ['priority__c'] },
      });
      expect(status.nextCheck).toBeUndefined(); // nothing is checked until someone decides
      expect(await searchAttributes(h)).toMatchObject({ CapaSyncState: ['needs-decision'] });
      expect(sim.store.records.get(id)!.fields.priority__c).toBe('Medium');
      expect(ctx.alerts.sent.map((a) => a.fields.reason)).toEqual(['conflict']);
      expect(ctx.alerts.sent[0].lines[0]).toContain('priority__c: was "Low", now "Medium", desired "High"');
      await body(h);
    });
    return ctx;
  }

  it('goes to needs-decision and overwrites nothing; force then applies, audited with operator and reason', async () => {
    const { audit } = await runToConflict('C1', async (h) => {
      await expect(
        h.executeUpdate(forceUpdate, { args: [{ operator: 'qa.lead', reason: 'risk review wins' }] }),
      ).resolves.toBe('applied');
      expect(await h.result()).toMatchObject({
        phase: 'applied',
        decisions: [expect.objectContaining({ kind: 'force', result: 'applied' })],
      });
      await saveHistory('guarded-conflict-then-force', h);
      await saveHistory('current-record-conflict-then-force', h); // from the current-record patch on
    });
    expect(vaultAudit('C1').map((a) => [a.oldValue, a.newValue, a.user])).toEqual([
      ['Low', 'Medium', 'reviewer@example.com'],
      ['Medium', 'High', 'sync.user@example.com'],
    ]);
    expect(await audit.writes()).toEqual([
      expect.objectContaining({ oldValue: 'Medium', newValue: 'High', actor: 'qa.lead', reason: 'risk review wins' }),
    ]);
  });

  it('is dropped by cancel, writing nothing', async () => {
    const { audit } = await runToConflict('C2', async (h) => {
      await expect(
        h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'reviewer is right' }] }),
      ).resolves.toBe('cancelled');
      expect(await h.result()).toMatchObject({ phase: 'cancelled' });
      expect(await searchAttributes(h)).toMatchObject({ CapaSyncState: ['cancelled'] });
      await saveHistory('guarded-conflict-then-cancel', h);
    });
    expect(vaultAudit('C2').map((a) => a.user)).toEqual(['reviewer@example.com']);
    expect(await audit.writes()).toEqual([]);
    expect(await audit.read({ recordId: 'C2' })).toEqual([
      expect.objectContaining({ kind: 'decision', decision: 'cancel', origin: { via: 'update' } }),
    ]);
  });

  it("is audited as a signal when it comes from the Web UI's signal form, which says nothing of its sender", async () => {
    const { audit } = await runToConflict('C3', async (h) => {
      await h.signal(cancelSignal, { operator: 'qa.lead', reason: 'from the Web UI' });
      expect(await h.result()).toMatchObject({ phase: 'cancelled' });
    });
    expect(await audit.read({ recordId: 'C3' })).toEqual([
      expect.objectContaining({ decision: 'cancel', actor: 'qa.lead', origin: { via: 'signal' } }),
    ]);
  });
});

it('applies the newest signalled values and ignores older ones', async () => {
  const rec = seedLocked('N1', { priority__c: 'Low', risk_score__c: 10 });
  const taskQueue = nextQueue();
  const { worker } = await testWorker(env, sim, taskQueue);
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'N1',
      desired: { priority__c: 'Medium' },
      baseline: { priority__c: 'Low' },
      sourceTimestamp: '2026-11-24T01:00:00.000Z',
    });
    await env.sleep('1 hour');
    const newer = {
      desired: { priority__c: 'High', risk_score__c: 80 },
      baseline: { priority__c: 'Low', risk_score__c: 10 },
      sourceTimestamp: '2026-11-25T01:00:00.000Z',
      batchId: 'batch-2',
    };
    const older = {
      desired: { priority__c: 'Low' },
      baseline: {},
      sourceTimestamp: '2026-11-23T01:00:00.000Z',
      batchId: 'batch-0',
    };
    await h.signal(setDesiredValuesSignal, newer);
    await h.signal(setDesiredValuesSignal, older);
    expect(await h.query(statusQuery)).toMatchObject({ desired: newer.desired, batchId: 'batch-2' });
    sim.store.moveState(rec, APPROVED);
    expect(await h.result()).toMatchObject({ phase: 'applied' });
    await saveHistory('guarded-newer-values', h);
  });
  expect(rec.fields).toMatchObject({ priority__c: 'High', risk_score__c: 80 });
});

it('asks for a decision and alerts once the maximum wait is reached', async () => {
  seedLocked('M1');
  const taskQueue = nextQueue();
  const { worker, alerts } = await testWorker(env, sim, taskQueue);
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'M1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
      options: { maxWaitSeconds: 2 * 24 * 3600 },
    });
    await env.sleep('3 days');
    expect(await h.query(statusQuery)).toMatchObject({
      phase: 'needs-decision',
      needsDecision: { reason: 'max-wait' },
    });
    expect(alerts.sent.map((a) => a.fields.reason)).toEqual(['max-wait']);
    await h.signal(cancelSignal, { operator: 'qa.lead', reason: 'obsolete' });
    expect(await h.result()).toMatchObject({ phase: 'cancelled' });
  });
  expect(vaultAudit('M1')).toHaveLength(0);
});

it('continues as new over hundreds of ticks, keeping state and decisions, with every run bounded', async () => {
  const rec = seedLocked('H1');
  const taskQueue = nextQueue();
  const { worker } = await testWorker(env, sim, taskQueue);
  const limit = 150;
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'H1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
      options: { tickScheduleSeconds: [60], historyEventLimit: limit },
    });
    await env.sleep('2 minutes');
    await h.executeUpdate(forceUpdate, { args: [{ operator: 'qa.lead', reason: 'try early' }] });
    await env.sleep('5 hours');
    const status = await h.query(statusQuery);
    expect(status.attempts).toBeGreaterThan(300);
    expect(status.runs).toBeGreaterThan(10);
    expect(status.decisions).toEqual([
      expect.objectContaining({ operator: 'qa.lead', result: 'still locked: waiting' }),
    ]);
    sim.store.moveState(rec, APPROVED);
    expect(await h.result()).toMatchObject({
      phase: 'applied',
      decisions: [expect.objectContaining({ reason: 'try early' })],
    });

    // The first run, which ends in continue-as-new, and the last, which applies (current-record-: from that patch on).
    const first = env.client.workflow.getHandle(h.workflowId, h.firstExecutionRunId);
    await saveHistory('guarded-continue-as-new-first-run', first);
    await saveHistory('guarded-continue-as-new-last-run', h);
    await saveHistory('current-record-continue-as-new-first-run', first);
    await saveHistory('current-record-continue-as-new-last-run', h);
    const lengths = await runLengths(env.client, 'capa-sync:capa__c:H1');
    expect(lengths.length).toBe(status.runs + 1);
    lengths.forEach((n) => expect(n).toBeLessThanOrEqual(limit + 20));
  });
  expect(vaultAudit('H1')).toHaveLength(1);
});

it('carries on when the worker is stopped mid-wait and a new one starts', async () => {
  const rec = seedLocked('K1');
  const taskQueue = nextQueue();
  // No sticky cache: the time-skipping server never times out a dead worker's sticky queue (a real server does
  // after stickyQueueScheduleToStartTimeout), so the new worker would otherwise never see the next task.
  const first = await testWorker(env, sim, taskQueue, { tuning: { maxCachedWorkflows: 0 } });
  const h = await first.worker.runUntil(async () => {
    const handle = await startRecordWorkflow(env, taskQueue, {
      recordId: 'K1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
    });
    await env.sleep('30 minutes');
    return handle;
  });
  // With no worker, the next tick's task waits on the server (the time-skipping server holds time meanwhile).
  expect((await h.describe()).status.name).toBe('RUNNING');
  sim.store.moveState(rec, APPROVED);
  const second = await testWorker(env, sim, taskQueue);
  await second.worker.runUntil(async () => {
    expect(await h.result()).toMatchObject({ phase: 'applied' });
  });
  expect(vaultAudit('K1')).toHaveLength(1);
});

it('refuses a force or cancel without operator or reason', async () => {
  const rec = seedLocked('V1');
  const taskQueue = nextQueue();
  const { worker } = await testWorker(env, sim, taskQueue);
  await worker.runUntil(async () => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'V1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
    });
    await env.sleep('1 minute');
    const noOperator = await h.executeUpdate(forceUpdate, { args: [{ operator: ' ', reason: 'x' }] }).catch((e) => e);
    expect(noOperator).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String(noOperator.cause?.message)).toContain('operator is required');
    const noReason = await h
      .executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: '' }] })
      .catch((e) => e);
    expect(String(noReason.cause?.message)).toContain('reason is required');
    expect((await h.query(statusQuery)).decisions).toEqual([]);
    sim.store.moveState(rec, APPROVED);
    expect(await h.result()).toMatchObject({ phase: 'applied' });
  });
});

afterAll(() => {
  // Histories are written only when SAVE_HISTORIES=1; make sure a normal run never left partial files.
  const dir = path.join(__dirname, 'fixtures/histories');
  if (fs.existsSync(dir)) fs.readdirSync(dir).forEach((f) => expect(f.endsWith('.json')).toBe(true));
});
