import type { RowResult } from '../contracts/batch-messages';
import type { WriteOutcome } from '../contracts/write-outcome';
import type { ValidRow } from '../sources/validate-row';
import type { HandOff, PageRow } from '../store/batch-store';
import type { RecordState } from '../vault/types';
import { changedSince, rowAction } from '../contracts/row-decision';

// What a batch page does with each of its rows, as pure functions of the rows, Vault's states and the bulk update's
// outcomes: applyPage (batch/pages.ts) reads, writes and stores around them; test/page-decisions.test.ts
// checks them without a server.

/** A row Vault took, with the values it held before. */
export interface Written {
  row: ValidRow;
  state: RecordState;
}

/** Where a page's rows go once their states are read. */
export interface PageClasses {
  results: RowResult[];
  toHandOff: HandOff[];
  toUpdate: PageRow[];
  written: Written[];
}

const handOff = (row: ValidRow, state: RecordState): HandOff => ({
  row,
  baseline: state.values,
  vaultState: state.state,
});

/**
 * Before the bulk update, each row by its action (contracts/row-decision.ts): a record Vault does not have fails; one
 * an earlier attempt already wrote counts as written with the values that attempt saw before; a revert's row whose
 * record changed since fails, left as it is; a locked record, or one whose workflow is running, goes to its workflow;
 * the others are updated (Vault says which were unchanged).
 */
export function classifyPage(
  rows: PageRow[],
  states: Map<string, RecordState>,
  isLocked: (state: string) => boolean,
): PageClasses {
  const classes: PageClasses = { results: [], toHandOff: [], toUpdate: [], written: [] };
  for (const row of rows) {
    const state = states.get(row.id);
    const action = rowAction(row, state, isLocked);
    if (!state || action === 'not-found') {
      classes.results.push({
        ...{ row: row.row, recordId: row.id, outcome: 'failed' },
        ...{ errorType: 'RECORD_NOT_FOUND', message: 'no such record in Vault' },
      });
    } else if (action === 'already-written') {
      classes.written.push({ row, state: { ...state, values: row.valuesBefore! } });
    } else if (action === 'changed-since') {
      const { field, message } = changedSince(row.expected!, state.values)!;
      classes.results.push({
        ...{ row: row.row, recordId: row.id, outcome: 'failed', vaultState: state.state },
        ...{ field, errorType: 'CHANGED_SINCE', message },
      });
    } else if (action === 'already-waiting' || action === 'wait') {
      classes.toHandOff.push(handOff(row, state));
    } else {
      classes.toUpdate.push(row);
    }
  }
  return classes;
}

/**
 * After the bulk update: a record locked since the state read, or still transient after the rounds
 * (RACE_CONDITION, an unknown outcome that reading back showed not applied), goes to its workflow, which retries as
 * long as it takes; the others are updated, unchanged or failed as Vault said.
 */
export function settleUpdates(
  classes: PageClasses,
  outcomes: Map<string, WriteOutcome>,
  states: Map<string, RecordState>,
): void {
  for (const row of classes.toUpdate) {
    const o = outcomes.get(row.id)!;
    const state = states.get(row.id)!;
    if (o.status === 'locked' || o.status === 'transient') classes.toHandOff.push(handOff(row, state));
    else if (o.status === 'updated') classes.written.push({ row, state });
    else if (o.status === 'unchanged') {
      classes.results.push({ row: row.row, recordId: row.id, outcome: 'unchanged', vaultState: state.state });
    } else {
      classes.results.push({
        row: row.row,
        recordId: row.id,
        outcome: 'failed',
        vaultState: state.state,
        errorType: o.errorType ?? o.status,
        message: o.message,
      });
    }
  }
  for (const { row, state } of classes.written) {
    classes.results.push({ row: row.row, recordId: row.id, outcome: 'updated', vaultState: state.state });
  }
}
