import { changedFields } from '../contracts/field-values';
import type { PlannedAction, PlannedRow } from '../contracts/plan-messages';
import type { PageRow } from '../store/batch-store';
import type { RecordState } from '../vault/types';
import { changedSince } from './revert';

/**
 * A page's rows as the batch would sort them at this moment (see classifyPage): a record Vault does not have fails,
 * a revert's row whose record changed since the reverted batch is left as it is, one whose workflow runs gets the
 * values as newer ones, a locked one waits, one that holds the values already is unchanged, and the others are
 * updated.
 */
export function planPageRows(
  rows: PageRow[],
  states: Map<string, RecordState>,
  isLocked: (state: string) => boolean,
): PlannedRow[] {
  return rows.map((row) => {
    const state = states.get(row.id);
    if (!state) return { row: row.row, planned: 'not-found' };
    const before = Object.fromEntries(Object.keys(row.values).map((f) => [f, state.values[f] ?? null]));
    const planned: PlannedAction =
      row.expected && changedSince(row.expected, state.values)
        ? 'changed-since'
        : row.running
          ? 'already-waiting'
          : isLocked(state.state)
            ? 'wait'
            : changedFields(row.values, state.values).length
              ? 'update'
              : 'unchanged';
    return { row: row.row, planned, vaultState: state.state, before };
  });
}
