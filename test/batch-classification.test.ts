import { MockActivityEnvironment } from '@temporalio/testing';
import { createBatchActivities, type BatchActivityDeps } from '../src/activities/batch';
import { singleTeam } from '../src/alerts/routing';
import type { FieldValues } from '../src/contracts/field-values';
import { silentLogger } from '../src/observability/logger';
import type { WriteEntry as AuditEntry } from '../src/store/audit-trail';
import type { HandOff, PageRow } from '../src/store/batch-store';
import { DOCUMENTED_DIALECT } from '../src/vault/dialect';
import type { RecordState, RecordWriteOutcome, UpdateRow } from '../src/vault/types';
import type { RowResult } from '../src/contracts/batch-messages';

// How a batch page sorts its rows, in an activity context with the Vault client and the store stubbed: no server,
// no database, milliseconds. test/batch.test.ts runs pages end to end against the simulator and PostgreSQL.

const UNLOCKED = 'in_progress_state__c';
const LOCKED = 'under_review_state__c';
const row = (n: number, id: string, extra: Partial<PageRow> = {}): PageRow => ({
  row: n,
  id,
  values: { priority__c: 'High' },
  running: false,
  ...extra,
});

function applyPage(rows: PageRow[], vault: { states: RecordState[]; outcome: (r: UpdateRow) => RecordWriteOutcome }) {
  const sent: string[] = [];
  const saved: { results: RowResult[]; handOffs: HandOff[]; audit: AuditEntry[] } = {
    results: [],
    handOffs: [],
    audit: [],
  };
  const deps = {
    vault: {
      dialect: DOCUMENTED_DIALECT,
      readStates: async (_object: string, ids: string[]) => vault.states.filter((s) => ids.includes(s.id)),
      bulkUpdate: async (_object: string, updates: UpdateRow[]) => {
        sent.push(...updates.map((u) => u.id));
        return updates.map(vault.outcome);
      },
    },
    store: {
      batches: {
        page: async () => ({ applied: false, rows }),
        saveIntent: async () => undefined,
        saveTeams: async () => undefined,
        savePage: async (_b: string, _p: number, results: RowResult[], handOffs: HandOff[]) => {
          Object.assign(saved, { results, handOffs });
          return {};
        },
      },
      audit: { append: async (entries: AuditEntry[]) => void saved.audit.push(...entries) },
      transaction: (work: (tx: unknown) => Promise<unknown>) => work(deps.store),
    },
    object: 'capa__c',
    alerts: { routing: singleTeam({ kind: 'log' }) },
    mapping: { columns: { priority: { field: 'priority__c' } } },
    logger: silentLogger,
    metrics: { rowsProcessed: () => undefined },
  } as unknown as BatchActivityDeps;
  const { applyPage } = createBatchActivities(deps);
  return new MockActivityEnvironment()
    .run(applyPage, { batchId: 'b1', page: 0, sourceTimestamp: '2026-11-27T01:00:00Z' })
    .then(() => ({ ...saved, sent }));
}

const state = (id: string, st: string, values: FieldValues = { priority__c: 'Low' }): RecordState => ({
  id,
  state: st,
  status: 'active__v',
  values,
});

it('writes unlocked rows, hands locked, raced and already waiting ones to their record workflows', async () => {
  const page = await applyPage(
    [row(1, 'U1'), row(2, 'L1'), row(3, 'W1', { running: true }), row(4, 'R1'), row(5, 'S1'), row(6, 'X1')],
    {
      states: [
        state('U1', UNLOCKED),
        state('L1', LOCKED),
        state('W1', UNLOCKED),
        state('R1', UNLOCKED),
        state('S1', UNLOCKED, { priority__c: 'High' }),
      ],
      outcome: ({ id }) =>
        id === 'R1'
          ? { id, status: 'locked', errorType: 'OPERATION_NOT_ALLOWED' } // locked since the state read
          : id === 'S1'
            ? { id, status: 'unchanged' }
            : { id, status: 'updated' },
    },
  );
  expect(page.sent.sort()).toEqual(['R1', 'S1', 'U1']); // never a locked or already waiting record
  expect(page.handOffs.map((h) => [h.row.id, h.vaultState, h.baseline])).toEqual([
    ['L1', LOCKED, { priority__c: 'Low' }],
    ['W1', UNLOCKED, { priority__c: 'Low' }],
    ['R1', UNLOCKED, { priority__c: 'Low' }],
  ]);
  expect(page.results.map((r) => [r.recordId, r.outcome, r.errorType])).toEqual([
    ['X1', 'failed', 'RECORD_NOT_FOUND'],
    ['S1', 'unchanged', undefined],
    ['U1', 'updated', undefined],
  ]);
  expect(page.audit.map((a) => [a.recordId, a.field, a.oldValue, a.newValue])).toEqual([
    ['U1', 'priority__c', 'Low', 'High'],
  ]);
});

it("reports and audits as written, without sending again, a row an earlier attempt's lost answer left written", async () => {
  const page = await applyPage([row(1, 'A1', { valuesBefore: { priority__c: 'Medium' } })], {
    states: [state('A1', UNLOCKED, { priority__c: 'High' })],
    outcome: ({ id }) => ({ id, status: 'unchanged' }),
  });
  expect(page.sent).toEqual([]);
  expect(page.results.map((r) => [r.recordId, r.outcome])).toEqual([['A1', 'updated']]);
  expect(page.audit.map((a) => [a.oldValue, a.newValue])).toEqual([['Medium', 'High']]);
});
