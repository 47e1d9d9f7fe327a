import type { PlannedRow } from '../contracts/plan-messages';
import { type DecidedRow, rowAction } from '../contracts/row-decision';
import type { RecordState } from '../vault/types';

/**
 * A page's rows as the batch would sort them at this moment (contracts/row-decision.ts), with what Vault holds: one
 * for each row, in the rows' order.
 */
export function planPageRows(
  rows: Array<DecidedRow & { row: number; id: string }>,
  states: Map<string, RecordState>,
  isLocked: (state: string) => boolean,
): PlannedRow[] {
  return rows.map((row) => {
    const state = states.get(row.id);
    if (!state) return { row: row.row, planned: 'not-found' };
    const before = Object.fromEntries(Object.keys(row.values).map((f) => [f, state.values[f] ?? null]));
    // A plan writes nothing, so no earlier attempt of it wrote either.
    const action = rowAction(row, state, isLocked);
    const planned = action === 'already-written' ? 'update' : action;
    return { row: row.row, planned, vaultState: state.state, before };
  });
}
