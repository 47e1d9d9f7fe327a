import { classifyPage, settleUpdates } from '../src/activities/page-decisions';
import type { PageRow } from '../src/store/batch-store';
import type { RecordState } from '../src/vault/types';
import type { WriteOutcome } from '../src/contracts/write-outcome';

// A batch page's decisions, as pure functions: no activity context, no server.

const row = (n: number, extra: Partial<PageRow> = {}): PageRow => ({
  row: n,
  id: `R${n}`,
  values: { priority__c: 'High' },
  running: false,
  ...extra,
});
const state = (n: number, s: string, values = { priority__c: 'Low' }): RecordState => ({
  id: `R${n}`,
  state: s,
  status: 'active__v',
  values,
});
const isLocked = (s: string) => s === 'under_review_state__c';

it('sorts rows by what Vault holds: missing, already written by a dead attempt, locked or running, to update', () => {
  const rows = [row(1), row(2, { valuesBefore: { priority__c: 'Low' } }), row(3), row(4, { running: true }), row(5)];
  const states = new Map(
    [
      state(2, 'in_progress_state__c', { priority__c: 'High' }), // the dead attempt's write landed
      state(3, 'under_review_state__c'),
      state(4, 'in_progress_state__c'),
      state(5, 'in_progress_state__c'),
    ].map((s) => [s.id, s]),
  );
  const classes = classifyPage(rows, states, isLocked);
  expect(classes.results).toEqual([
    { row: 1, recordId: 'R1', outcome: 'failed', errorType: 'RECORD_NOT_FOUND', message: 'no such record in Vault' },
  ]);
  // Written with the values the dead attempt saw before it wrote: the audit's old values.
  expect(classes.written.map((w) => [w.row.id, w.state.values])).toEqual([['R2', { priority__c: 'Low' }]]);
  expect(classes.toHandOff.map((h) => [h.row.id, h.vaultState, h.baseline])).toEqual([
    ['R3', 'under_review_state__c', { priority__c: 'Low' }],
    ['R4', 'in_progress_state__c', { priority__c: 'Low' }],
  ]);
  expect(classes.toUpdate.map((r) => r.id)).toEqual(['R5']);
});

it("settles the bulk update's outcomes: locked and transient go to their workflow, the rest are reported", () => {
  const rows = [1, 2, 3, 4, 5].map((n) => row(n));
  const states = new Map(rows.map((r, i) => [r.id, state(i + 1, 'in_progress_state__c')]));
  const classes = classifyPage(rows, states, isLocked);
  const outcomes = new Map<string, WriteOutcome>([
    ['R1', { status: 'updated' }],
    ['R2', { status: 'unchanged' }],
    ['R3', { status: 'locked' }],
    ['R4', { status: 'transient', errorType: 'RACE_CONDITION' }],
    ['R5', { status: 'permanent', errorType: 'INVALID_DATA', message: 'bad value' }],
  ]);
  settleUpdates(classes, outcomes, states);
  expect(classes.toHandOff.map((h) => h.row.id)).toEqual(['R3', 'R4']);
  expect(classes.results.map((r) => [r.recordId, r.outcome, r.errorType])).toEqual([
    ['R2', 'unchanged', undefined],
    ['R5', 'failed', 'INVALID_DATA'],
    ['R1', 'updated', undefined],
  ]);
});

it("leaves a revert's row whose record changed since the reverted batch; a locked one that did not goes to its workflow", () => {
  // Each row restores Low where the reverted batch wrote High (`expected`).
  const revertRow = (n: number) => row(n, { values: { priority__c: 'Low' }, expected: { priority__c: 'High' } });
  const rows = [1, 2, 3].map(revertRow);
  const states = new Map(
    [
      state(1, 'in_progress_state__c', { priority__c: 'Medium' }), // a reviewer changed it since
      state(2, 'under_review_state__c', { priority__c: 'High' }),
      state(3, 'in_progress_state__c', { priority__c: 'High' }),
    ].map((s) => [s.id, s]),
  );
  const classes = classifyPage(rows, states, isLocked);
  expect(classes.results).toEqual([
    {
      ...{ row: 1, recordId: 'R1', outcome: 'failed', vaultState: 'in_progress_state__c', field: 'priority__c' },
      ...{
        errorType: 'CHANGED_SINCE',
        message: 'not reverted: priority__c holds "Medium" now, the batch wrote "High"',
      },
    },
  ]);
  expect(classes.toHandOff.map((h) => [h.row.id, h.baseline])).toEqual([['R2', { priority__c: 'High' }]]);
  expect(classes.toUpdate.map((r) => r.id)).toEqual(['R3']);
});
