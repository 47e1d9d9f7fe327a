import {
  changedFields,
  type FieldValue,
  type FieldValues,
  holdsValues,
  sameFieldValue,
  shownValue,
} from './field-values';
import type { PlannedAction } from './plan-messages';
import type { RowOutcome } from './batch-messages';

// What a batch does with one valid row, given what Vault holds for its record now: the one rule the page
// (activities/page-decisions.ts), the plan (change-control/plan-decisions.ts) and the plan's comparison with what
// the batch then did (store/batch-store.ts) share.

export type RowAction =
  /** Vault has no such record. */
  | 'not-found'
  /** An earlier attempt at the page wrote it (it died after Vault took its values). */
  | 'already-written'
  /** A revert's row whose record no longer holds what the reverted batch wrote: left as it is. */
  | 'changed-since'
  /** Its record workflow runs: the values go to it, as newer ones. */
  | 'already-waiting'
  /** Locked: a record workflow waits it out. */
  | 'wait'
  | 'update'
  /** Vault holds the values already (the batch sends it anyway; Vault answers that nothing changed). */
  | 'unchanged';

export interface DecidedRow {
  values: FieldValues;
  /** The values read before an earlier attempt's bulk update (the page's intent). */
  valuesBefore?: FieldValues;
  /** A revert's row: what the record must still hold to be reverted. */
  expected?: FieldValues;
  /** A record workflow for the record was running when the batch was prepared. */
  running?: boolean;
}

export function rowAction(
  row: DecidedRow,
  state: { state: string; values: FieldValues } | undefined,
  isLocked: (state: string) => boolean,
): RowAction {
  if (!state) return 'not-found';
  if (row.valuesBefore && holdsValues(state.values, row.values) && !holdsValues(row.valuesBefore, row.values))
    return 'already-written';
  if (row.expected && changedSince(row.expected, state.values)) return 'changed-since';
  if (row.running) return 'already-waiting';
  if (isLocked(state.state)) return 'wait';
  return changedFields(row.values, state.values).length ? 'update' : 'unchanged';
}

/** The outcome a planned action ends in, when the batch runs as planned. */
export const PLANNED_OUTCOME: Record<PlannedAction, RowOutcome> = {
  update: 'updated',
  unchanged: 'unchanged',
  wait: 'waiting',
  'already-waiting': 'waiting',
  'not-found': 'failed',
  'changed-since': 'failed',
};

/** Why a revert row is left as it is: the first of its fields that no longer holds what the reverted batch wrote. */
export function changedSince(
  expected: FieldValues,
  current: FieldValues,
): { field: string; message: string } | undefined {
  const field = Object.keys(expected).find((f) => !sameFieldValue(current[f], expected[f]));
  if (!field) return undefined;
  const show = (v: FieldValue | undefined) => shownValue(v, (value) => JSON.stringify(value));
  return {
    field,
    message: `not reverted: ${field} holds ${show(current[field])} now, the batch wrote ${show(expected[field])}`,
  };
}
