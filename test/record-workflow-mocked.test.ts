import { TestWorkflowEnvironment } from '@temporalio/testing';
import type {
  GuardedWriteResult,
  LockHolder,
  RecordActivities,
  RecordAlert,
  RecordSnapshot,
} from '../src/contracts/record-activities';
import type { WriteOutcome } from '../src/contracts/write-outcome';
import { conflictingFields } from '../src/contracts/conflict-guard';
import type { FieldValues } from '../src/contracts/field-values';
import { cancelUpdate, forceUpdate, statusQuery } from '../src/contracts/record-messages';
import { lockChangedSignal } from '../src/contracts/lock-watch';
import { saveHistory } from './helpers/histories';
import { startRecordWorkflow } from './helpers/record-env';
import { createTestWorker, startTimeSkippingServer } from './helpers/temporal';
import { waitFor } from './helpers/wait';

// The record workflow's process with its activities mocked, on the time-skipping server: no Vault, no store, so a
// change of policy or process is caught in seconds. test/record-workflow.test.ts runs the same against the simulator.

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingServer();
});
afterAll(() => env?.teardown());

const TICK_MS = 300_000;

/** Activities that answer from a scripted Vault record and note what the workflow asked. */
function mockedVault(script: { lockedReads: number; values: FieldValues }) {
  const reads: Array<{ unlessWatched: boolean }> = [];
  const writes: Array<{ values: FieldValues; actor: string }> = [];
  const alerts: RecordAlert[] = [];
  const settled: string[] = [];
  const decisions: string[] = [];
  /**
   * Who holds the lock, as the lock endpoint says (none: a dialect without one), the state that locks it, and whether
   * the record's own reads name the holder too (as guardedWrite does where it asks the lock endpoint).
   */
  const lock: { holder?: LockHolder; reads: number; state: string; readsName?: boolean } = {
    reads: 0,
    state: 'under_review_state__c',
  };
  const activities: RecordActivities = {
    // Reads, guards and writes as the real activity does, on the scripted record: locked for the first reads.
    async guardedWrite({ desired, baseline, actor, unlessReadSince }): Promise<GuardedWriteResult> {
      reads.push({ unlessWatched: unlessReadSince !== undefined });
      if (reads.length <= script.lockedReads)
        return { status: 'locked', state: lock.state, ...(lock.readsName ? { lockedBy: lock.holder?.lockedBy } : {}) };
      const state = 'closed_state__c';
      const fields = actor.kind === 'integration' ? conflictingFields(script.values, baseline, desired) : [];
      if (fields.length) return { status: 'conflict', state, fields, values: script.values };
      writes.push({ values: desired, actor: actor.kind === 'operator' ? actor.operator : 'integration' });
      return { status: 'written', state, changed: true, stale: [] };
    },
    async readRecord(): Promise<RecordSnapshot> {
      throw new Error('runs started before GUARDED_WRITES only');
    },
    async applyChange(): Promise<WriteOutcome> {
      throw new Error('runs started before GUARDED_WRITES only');
    },
    async sendRecordAlert(alert) {
      alerts.push(alert);
    },
    async readLockHolder() {
      lock.reads++;
      return lock.holder;
    },
    async settleRecord({ resolution }) {
      settled.push(resolution);
    },
    async recordDecision({ decision, outcome }) {
      decisions.push(`${decision}: ${outcome}`);
      return { seq: decisions.length, hash: 'h', signedAt: new Date().toISOString(), keyId: 'k', signature: 's' };
    },
    async lastOwnWrites() {
      return {};
    },
  };
  return { activities, reads, writes, alerts, settled, decisions, lock };
}

let queue = 0;
async function run<T>(activities: RecordActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `mocked-${++queue}`;
  const worker = await createTestWorker(env, { taskQueue, activities });
  return worker.runUntil(body(taskQueue));
}

it('waits out the lock on its own ticks (no watcher), reading and writing in one activity, then applies once', async () => {
  const vault = mockedVault({ lockedReads: 3, values: { priority__c: 'Low' } });
  const result = await run(vault.activities, async (taskQueue) => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'M1',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
    });
    return h.result();
  });
  expect(result).toMatchObject({ phase: 'applied', attempts: 4 });
  // Every check was woken by a timer: each may be spared where the watcher read the record lately, but the first, which
  // knows no state of the record yet (it was not started by a batch that read it).
  expect(vault.reads).toEqual([{ unlessWatched: false }, ...Array(3).fill({ unlessWatched: true })]);
  expect(vault.writes).toEqual([{ values: { priority__c: 'High' }, actor: 'integration' }]);
  expect(vault.settled).toEqual(['applied']);
});

it('alerts on a hand edit made during the lock, writes nothing, and applies when an operator forces it', async () => {
  const vault = mockedVault({ lockedReads: 1, values: { priority__c: 'Medium', risk_score__c: '16.0' } });
  await run(vault.activities, async (taskQueue) => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'M2',
      desired: { priority__c: 'High', risk_score__c: 16 },
      baseline: { priority__c: 'Low', risk_score__c: 16 },
    });
    await env.sleep(TICK_MS * 2);
    expect(await h.query(statusQuery)).toMatchObject({
      phase: 'needs-decision',
      needsDecision: { reason: 'conflict', fields: ['priority__c'] }, // "16.0" is the number 16: not an edit
    });
    expect(vault.writes).toEqual([]);
    expect(await h.executeUpdate(forceUpdate, { args: [{ operator: 'qa.lead', reason: 'risk decided' }] })).toBe(
      'applied',
    );
    return h.result();
  });
  expect(vault.alerts.map((a) => [a.reason, a.recordId])).toEqual([['conflict', 'M2']]);
  expect(vault.writes).toEqual([{ values: { priority__c: 'High', risk_score__c: 16 }, actor: 'qa.lead' }]);
  expect(vault.decisions).toEqual(['force: applied']);
  expect(vault.settled).toEqual(['applied']);
});

it('restarts the wait when an operator forces a record that reached the maximum wait and Vault still locks it', async () => {
  const vault = mockedVault({ lockedReads: 1_000, values: { priority__c: 'Low' } });
  await run(vault.activities, async (taskQueue) => {
    const h = await startRecordWorkflow(env, taskQueue, {
      recordId: 'M9',
      desired: { priority__c: 'High' },
      baseline: { priority__c: 'Low' },
      options: { maxWaitSeconds: 3 * 3600 },
    });
    await env.sleep(4 * 3600_000);
    expect(await h.query(statusQuery)).toMatchObject({
      phase: 'needs-decision',
      needsDecision: { reason: 'max-wait' },
    });
    const readsBefore = vault.reads.length;
    expect(await h.executeUpdate(forceUpdate, { args: [{ operator: 'qa.lead', reason: 'board decided' }] })).toBe(
      'still locked: waiting again, up to the maximum wait',
    );
    await env.sleep(TICK_MS * 3);
    // It reads Vault again on its ticks instead of going straight back to needs-decision.
    expect(await h.query(statusQuery)).toMatchObject({ phase: 'waiting-for-unlock' });
    expect(vault.reads.length).toBeGreaterThan(readsBefore + 2);
    // At the end of the new wait it asks again, with an alert (not suppressed as a repeat).
    await env.sleep(4 * 3600_000); // the maximum wait, and the hourly tick that finds it passed
    expect(await h.query(statusQuery)).toMatchObject({
      phase: 'needs-decision',
      needsDecision: { reason: 'max-wait' },
    });
    expect(vault.alerts.map((a) => a.reason)).toEqual(['max-wait', 'max-wait']);
    await h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'review abandoned' }] });
    await h.result();
    await saveHistory('guarded-max-wait-force-while-locked-then-cancel', h);
  });
  // Both decisions are audited, the force with its "still locked" outcome; the cancel's rows say who and why.
  expect(vault.decisions).toEqual(['force: still locked: waiting again, up to the maximum wait', 'cancel: cancelled']);
  expect(vault.settled).toEqual(['cancelled by qa.lead: review abandoned']);
});

describe("a team's escalation ladder", () => {
  const DAY_MS = 24 * 3600_000;
  const routing = {
    team: 'site-a',
    ladder: [
      { afterSeconds: 3 * 86_400, step: 'remind' as const },
      { afterSeconds: 7 * 86_400, step: 'escalate' as const },
    ],
  };
  const ladderAlerts = (alerts: RecordAlert[]) =>
    alerts.filter((a) => a.reason.startsWith('lock-')).map((a) => [a.reason, a.team, a.lockedBy]);

  it('reminds the team and then escalates, each once, naming the holder; a new holder starts it again', async () => {
    const vault = mockedVault({ lockedReads: 100_000, values: { priority__c: 'Low' } });
    await run(vault.activities, async (taskQueue) => {
      const since = async () => new Date(await env.currentTimeMs()).toISOString();
      vault.lock.holder = { locked: true, lockedBy: 'alice', lockedSince: await since() };
      const h = await startRecordWorkflow(env, taskQueue, {
        recordId: 'L1',
        desired: { priority__c: 'High' },
        baseline: { priority__c: 'Low' },
        vaultState: 'under_review_state__c',
        routing,
      });
      await env.sleep(2 * DAY_MS);
      expect(ladderAlerts(vault.alerts)).toEqual([]);
      expect((await h.query(statusQuery)).nextEscalation).toMatchObject({ step: 'remind' });
      await env.sleep(2 * DAY_MS); // day 4
      expect(ladderAlerts(vault.alerts)).toEqual([['lock-reminder', 'site-a', 'alice']]);
      const status = await h.query(statusQuery);
      expect(status).toMatchObject({ team: 'site-a', lockedBy: 'alice', nextEscalation: { step: 'escalate' } });
      // The Web UI's current details say it too.
      const { currentDetails } = await h.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(currentDetails).toContain(
        `Team site-a; locked since ${status.lockedSince}; next step: escalate at ${status.nextEscalation!.at}`,
      );
      await env.sleep(4 * DAY_MS); // day 8
      expect(ladderAlerts(vault.alerts)).toEqual([
        ['lock-reminder', 'site-a', 'alice'],
        ['lock-escalation', 'site-a', 'alice'],
      ]);
      expect(vault.alerts.at(-1)!.detail).toMatch(
        /locked by alice in Vault state under_review_state__c since .* \(7 d/,
      );
      // Bob takes the lock over: the ladder starts again from when he took it.
      vault.lock.holder = { locked: true, lockedBy: 'bob', lockedSince: await since() };
      await env.sleep(8 * DAY_MS); // day 16: bob has held it about 8 days
      expect(ladderAlerts(vault.alerts)).toEqual([
        ['lock-reminder', 'site-a', 'alice'],
        ['lock-escalation', 'site-a', 'alice'],
        ['lock-reminder', 'site-a', 'bob'],
        ['lock-escalation', 'site-a', 'bob'],
      ]);
      expect((await h.query(statusQuery)).phase).toBe('waiting-for-unlock');
      await h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'done with it' }] });
      await h.result();
      await saveHistory('ladder-new-holder', env.client.workflow.getHandle(h.workflowId));
      await saveHistory('current-record-ladder-new-holder', env.client.workflow.getHandle(h.workflowId));
    });
    // The ladder only told people: nothing was forced or written.
    expect(vault.writes).toEqual([]);
    expect(vault.decisions).toEqual(['cancel: cancelled']);
  });

  it('learns the holder of the lock it counts for without starting again, and sends each step on time', async () => {
    // The lock endpoint gives no locked_since: the ladder counts from the hand-off, and learning who holds the lock
    // at the first step is not a new holder.
    const vault = mockedVault({ lockedReads: 100_000, values: { priority__c: 'Low' } });
    vault.lock.holder = { locked: true, lockedBy: 'carol' };
    await run(vault.activities, async (taskQueue) => {
      const h = await startRecordWorkflow(env, taskQueue, {
        recordId: 'L3',
        desired: { priority__c: 'High' },
        baseline: { priority__c: 'Low' },
        vaultState: 'under_review_state__c',
        routing,
      });
      await env.sleep(7 * DAY_MS + 3600_000);
      expect(ladderAlerts(vault.alerts)).toEqual([
        ['lock-reminder', 'site-a', 'carol'],
        ['lock-escalation', 'site-a', 'carol'],
      ]);
      await h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'done with it' }] });
      return h.result();
    });
  });

  it('starts the ladder again when the record moves on to another locking state, with the same holder', async () => {
    const vault = mockedVault({ lockedReads: 100_000, values: { priority__c: 'Low' } });
    vault.lock.holder = { locked: true, lockedBy: 'carol' };
    vault.lock.readsName = true; // every read says carol holds it: only the state changes
    await run(vault.activities, async (taskQueue) => {
      const h = await startRecordWorkflow(env, taskQueue, {
        recordId: 'L5',
        desired: { priority__c: 'High' },
        baseline: { priority__c: 'Low' },
        vaultState: 'under_review_state__c',
        routing,
      });
      await env.sleep(4 * DAY_MS);
      expect(ladderAlerts(vault.alerts)).toEqual([['lock-reminder', 'site-a', 'carol']]);
      // Reviewed: the record waits for approval now, still carol's. The escalation due on day 7 for the review is not
      // sent; the approval's own ladder reminds from its third day.
      vault.lock.state = 'pending_approval_state__c';
      await env.sleep(2 * DAY_MS + 12 * 3600_000); // day 6.5
      expect(ladderAlerts(vault.alerts)).toEqual([['lock-reminder', 'site-a', 'carol']]);
      await env.sleep(DAY_MS); // day 7.5: the approval held some 3 days
      expect(ladderAlerts(vault.alerts)).toEqual([
        ['lock-reminder', 'site-a', 'carol'],
        ['lock-reminder', 'site-a', 'carol'],
      ]);
      expect(vault.alerts.at(-1)!.detail).toContain('pending_approval_state__c');
      await h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'done with it' }] });
      return h.result();
    });
    expect(vault.writes).toEqual([]);
  });

  it('asks the lock endpoint once a step where it says unlocked but the state still locks the record', async () => {
    // The customer dialect: a record locked by its state reads "locked" from Vault's query, while its lock endpoint
    // may say nothing holds it. The ladder goes on with the state, and never asks in a loop.
    const vault = mockedVault({ lockedReads: 100_000, values: { priority__c: 'Low' } });
    vault.lock.holder = { locked: false };
    await run(vault.activities, async (taskQueue) => {
      const h = await startRecordWorkflow(env, taskQueue, {
        recordId: 'L4',
        desired: { priority__c: 'High' },
        baseline: { priority__c: 'Low' },
        vaultState: 'under_review_state__c',
        routing,
      });
      await env.sleep(10 * DAY_MS);
      expect(ladderAlerts(vault.alerts)).toEqual([
        ['lock-reminder', 'site-a', undefined],
        ['lock-escalation', 'site-a', undefined],
      ]);
      expect(vault.lock.reads).toBe(2);
      await h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'done with it' }] });
      return h.result();
    });
  });

  it('without a lock endpoint, counts from when the record was first seen locked', async () => {
    const vault = mockedVault({ lockedReads: 100_000, values: { priority__c: 'Low' } });
    await run(vault.activities, async (taskQueue) => {
      const h = await startRecordWorkflow(env, taskQueue, {
        recordId: 'L2',
        desired: { priority__c: 'High' },
        baseline: { priority__c: 'Low' },
        vaultState: 'under_review_state__c',
        routing,
      });
      await env.sleep(3 * DAY_MS + 3600_000);
      expect(ladderAlerts(vault.alerts)).toEqual([['lock-reminder', 'site-a', undefined]]);
      expect(vault.alerts[0].detail).toMatch(/^locked in Vault state under_review_state__c since/);
      await h.executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'done with it' }] });
      return h.result();
    });
  });
});

it("keeps the newest tick's word when an older tick's arrives after it, and writes on the unlock at once", async () => {
  // A watcher attempt cut off from Temporal may deliver its word (locked) after the next tick's (unlocked).
  const vault = mockedVault({ lockedReads: 1, values: { priority__c: 'Low' } });
  const taskQueue = `mocked-${++queue}`;
  const input = { recordId: 'N1', desired: { priority__c: 'High' }, baseline: { priority__c: 'Low' } };
  // No cache, so no sticky queue: the next worker takes the workflow's next task at once.
  const h = await (
    await createTestWorker(env, { taskQueue, activities: vault.activities, maxCachedWorkflows: 0 })
  ).runUntil(async () => {
    const started = await startRecordWorkflow(env, taskQueue, input);
    await waitFor('the first read', async () => (await started.query(statusQuery)).attempts === 1);
    return started;
  });
  // No worker runs: both words reach the next workflow task together, the older tick's last.
  const news = { found: true, state: 'closed_state__c', locked: false };
  await h.signal(lockChangedSignal, { tickAt: 2_000, ...news });
  await h.signal(lockChangedSignal, { tickAt: 1_000, found: true, state: 'under_review_state__c', locked: true });
  const worker = await createTestWorker(env, { taskQueue, activities: vault.activities });
  await worker.runUntil(async () => {
    expect(await h.result()).toMatchObject({ phase: 'applied' });
    await saveHistory('newest-lock-news', env.client.workflow.getHandle(h.workflowId));
    await saveHistory('current-record-newest-lock-news', env.client.workflow.getHandle(h.workflowId));
  });
  // The write followed the unlock's word, not a timer a tick later.
  expect(vault.reads).toEqual([{ unlessWatched: false }, { unlessWatched: false }]);
  expect(vault.writes).toEqual([{ values: { priority__c: 'High' }, actor: 'integration' }]);
});
