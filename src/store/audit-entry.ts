import type { FieldValue, FieldValues } from '../contracts/field-values';
import type { DecisionKind, DecisionOrigin } from '../contracts/decisions';

// What one audit entry says: a value written, or a decision taken. The trail (audit-trail.ts) stores and chains them;
// entry-hash.ts hashes them.

export interface EntryCommon {
  time: string;
  object: string;
  batchId: string;
  /** Who decided: `integration`, or the operator as declared. */
  actor: string;
  reason?: string;
  workflowId?: string;
  /** The write or decision (a batch page, a record workflow's activity) the entry is for: audited once. */
  writeId?: string;
  /** When the risk system produced the values (the batch's start, or the row's own time): newest wins. */
  sourceTimestamp?: string;
}

/** One value written to Vault: what, from what, to what, when, for which batch, and who decided it. */
export interface WriteEntry extends EntryCommon {
  kind: 'write';
  recordId: string;
  field: string;
  oldValue: FieldValue;
  newValue: FieldValue;
}

/** An operator's decision (force, cancel, a batch's approval), with what it did and the values it concerned. */
export interface DecisionEntry extends EntryCommon {
  kind: 'decision';
  /** The record decided on; absent for a decision on a whole batch. */
  recordId?: string;
  decision: DecisionKind;
  outcome: string;
  values: FieldValues;
  origin: DecisionOrigin;
}

export type AuditEntry = WriteEntry | DecisionEntry;
