// The record workflow's patches (see README, "Changing workflow code"): each guards a change that running workflows
// must not replay, and stays until no run from before it can be left.
export const WRITE_NEWER_VALUES_NEXT = 'write-newer-values-next';
export const OWN_WRITES_ARE_NOT_EDITS = 'own-writes-are-not-edits';
export const NEW_RUN_FOR_LATE_VALUES = 'new-run-for-late-values';
export const SETTLE_ROWS_IN_THE_STORE = 'settle-rows-in-the-store';
export const ONE_SAME_VALUE_RULE = 'one-same-value-rule';
