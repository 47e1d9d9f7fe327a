import fs from 'node:fs';
import type { FieldValues } from '../src/contracts/field-values';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import type { DecisionEntry } from '../src/store/audit-trail';
import { verifyTrail } from './helpers/audit';
import { operatorEnv, runCli } from './helpers/cli';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { waitFor } from './helpers/wait';
import { saveHistory } from './helpers/histories';
import { batchWorkflowId } from '../src/contracts/batch-messages';

// A bad night undone with one command: `capa-sync revert` restores what a batch wrote, from the audit trail, as a
// batch of its own, and leaves alone what changed since; on the dev server, with Vault failing now and then.

const RECORDS = 300;
const FIELDS = ['priority__c', 'risk_score__c'];
const SYNC_USER = 'sync.user@example.com';
const id = (i: number) => sampleRecordId(i);

let stack: DevStack;
let cliEnv: Record<string, string>;
const cli = (...args: string[]) => runCli(cliEnv, args);
const store = () => stack.ctx.store;
const vaultRecord = (i: number) => stack.sim.store.records.get(id(i))!;
const valuesOf = (i: number): FieldValues => Object.fromEntries(FIELDS.map((f) => [f, vaultRecord(i).fields[f]]));
const lock = (i: number) => stack.sim.store.moveState(vaultRecord(i), 'under_review_state__c');
const unlock = (i: number) => stack.sim.store.moveState(vaultRecord(i), 'in_progress_state__c');
const syncWritesTo = (i: number) => stack.sim.store.audit.filter((a) => a.user === SYNC_USER && a.recordId === id(i));
const runBatch = async (batchId: string, rows: Record<string, string | number>[]) => {
  const handle = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId });
  return handle.result();
};
const revert = async (...args: string[]) => {
  const r = await cli('revert', ...args, '--operator', 'qa.lead', '--reason', 'CR-2211 bad mapping', '--json');
  expect(r).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  stack = await startDevStack({
    records: RECORDS,
    lockedFraction: 0,
    taskQueue: 'revert',
    settings: { CAPA_TICK_SECONDS: '1' },
  });
  stack.sim.setFaults({ serverErrorRate: 0.05, raceConditionRate: 0.01 });
  cliEnv = operatorEnv(stack, 'revert');
});

afterAll(async () => {
  await stack?.stop();
});

it('restores what a bad batch wrote, leaves records changed since, waits out locks; a revert of it restores the batch', async () => {
  const original = Array.from({ length: RECORDS }, (_, i) => valuesOf(i));
  const bad = { priority__c: 'High', risk_score__c: 90.5 }; // no seeded record holds it: every record changes
  // Records 1 and 2 are locked through the bad night and after it: their writes still wait when the revert comes.
  // Record 3 is locked through the night and unlocked after it: its record workflow writes the bad values.
  [1, 2, 3].forEach(lock);
  const night = await runBatch(
    'bad-night',
    Array.from({ length: RECORDS }, (_, i) => ({ capa_id: id(i), priority: 'High', risk_score: 90.5 })),
  );
  expect(night.counts).toMatchObject({ updated: RECORDS - 3, unchanged: 0, waiting: 3 });
  unlock(3);
  await waitFor('record 3 written by its workflow', async () => valuesOf(3).risk_score__c === 90.5);
  // Since: a reviewer sets record 4's priority by hand, a later night writes record 5's risk score, and record 6
  // is locked for review.
  stack.sim.store.editByHand(id(4), { priority__c: 'Low' }, 'reviewer@example.com');
  const later = await runBatch('later-night', [{ capa_id: id(5), priority: 'High', risk_score: 10 }]);
  expect(later.counts.updated).toBe(1);
  lock(6);

  const reverted = await revert('bad-night', '--batch-id', 'undo-bad-night');
  // Records 1 and 2 were never written (their waits are cancelled): nothing of them to revert.
  expect(reverted.inputRows).toBe(RECORDS - 2);
  expect(reverted.counts).toMatchObject({ updated: RECORDS - 5, failed: 2, waiting: 1, rejected: 0 });
  const rows = await store().batches.firstResults('undo-bad-night', ['failed', 'waiting'], 10);
  expect(fs.readFileSync(reverted.reports.failureCsv, 'utf8')).toContain('CHANGED_SINCE');
  const byRecord = (i: number) => rows.find((r) => r.recordId === id(i))!;
  expect(byRecord(4)).toMatchObject({
    outcome: 'failed',
    errorType: 'CHANGED_SINCE',
    field: 'priority__c',
    message: 'not reverted: priority__c holds "Low" now, the batch wrote "High"',
  });
  expect(byRecord(5)).toMatchObject({
    outcome: 'failed',
    field: 'risk_score__c',
    message: 'not reverted: risk_score__c holds 10 now, the batch wrote 90.5',
  });
  expect(byRecord(6)).toMatchObject({ outcome: 'waiting' });
  // revert-batch.json: from before the page-window patch.
  await saveHistory(
    'page-window-revert-batch',
    stack.env.client.workflow.getHandle(batchWorkflowId('capa__c', 'undo-bad-night')),
  );
  unlock(6);
  await waitFor(
    'record 6 reverted by its workflow',
    async () => valuesOf(6).risk_score__c === original[6].risk_score__c,
  );

  // Each record as the rules say: restored, left as changed since, or never written (its wait cancelled).
  for (let i = 0; i < RECORDS; i++) {
    if (i === 4) expect(valuesOf(i)).toEqual({ ...bad, priority__c: 'Low' });
    else if (i === 5) expect(valuesOf(i)).toEqual({ priority__c: 'High', risk_score__c: 10 });
    else expect(valuesOf(i)).toEqual(original[i]);
  }
  expect(syncWritesTo(1)).toEqual([]);
  expect(syncWritesTo(2)).toEqual([]);

  // The trail: one entry per restored value, the revert and each cancelled wait with who asked and why.
  const restored = await store().audit.writes({ batchId: 'undo-bad-night' });
  const expected = [...Array(RECORDS).keys()]
    .filter((i) => ![1, 2, 4, 5].includes(i))
    .flatMap((i) =>
      FIELDS.filter((f) => original[i][f] !== (bad as FieldValues)[f]).map((field) => ({
        recordId: id(i),
        field,
        oldValue: (bad as FieldValues)[field],
        newValue: original[i][field],
      })),
    );
  expect(
    restored
      .map(({ recordId, field, oldValue, newValue }) => ({ recordId, field, oldValue, newValue }))
      .sort((a, b) => (a.recordId + a.field).localeCompare(b.recordId + b.field)),
  ).toEqual(expected);
  const decisions = (await store().audit.read({ kind: 'decision' })) as DecisionEntry[];
  expect(decisions.filter((d) => d.decision === 'revert')).toEqual([
    expect.objectContaining({
      batchId: 'undo-bad-night',
      actor: 'qa.lead',
      reason: 'CR-2211 bad mapping',
      outcome: expect.stringContaining('2 of its waiting record workflows cancelled'),
      origin: expect.objectContaining({ via: 'start', account: expect.any(String) }),
    }),
  ]);
  expect(
    decisions.filter((d) => d.decision === 'cancel').map((d) => [d.recordId, d.batchId, d.actor, d.reason]),
  ).toEqual(
    expect.arrayContaining(
      [1, 2].map((i) => [
        id(i),
        'bad-night',
        'qa.lead',
        'revert undo-bad-night of batch bad-night: CR-2211 bad mapping',
      ]),
    ),
  );

  // Reverting the revert writes the bad night's values again where the revert restored them.
  const again = await revert('undo-bad-night', '--batch-id', 'redo-bad-night');
  expect(again.counts).toMatchObject({ updated: RECORDS - 4, failed: 0 });
  for (let i = 0; i < RECORDS; i++) if (![1, 2, 4, 5].includes(i)) expect(valuesOf(i)).toEqual(bad);
  expect((await verifyTrail(store(), stack.ctx.config)).problems).toEqual([]);
});

it('reverts the records named only, and refuses a batch that is not in the store', async () => {
  const before = [7, 8].map(valuesOf);
  await runBatch('risk-scores', [
    { capa_id: id(7), priority: 'Low', risk_score: 77 },
    { capa_id: id(8), priority: 'Low', risk_score: 77 },
  ]);
  const one = await revert('risk-scores', '--record', id(7));
  expect(one.inputRows).toBe(1);
  expect(valuesOf(7)).toEqual(before[0]);
  expect(valuesOf(8)).toEqual({ priority__c: 'Low', risk_score__c: 77 });

  const missing = await cli('revert', 'no-such-batch', '--operator', 'qa.lead', '--reason', 'x');
  expect(missing).toMatchObject({ code: 2, stderr: 'capa-sync: there is no batch no-such-batch to revert\n' });
  const noReason = await cli('revert', 'risk-scores', '--operator', 'qa.lead');
  expect(noReason).toMatchObject({ code: 2, stderr: 'capa-sync: --reason is required\n' });
});
