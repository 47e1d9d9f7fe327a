import type { FieldValues } from '../contracts/field-values';
import type { WriteOutcome } from '../contracts/write-outcome';

/** What happened to one record of a bulk update: a write outcome, by record id. */
export interface RecordWriteOutcome extends WriteOutcome {
  id: string;
}

export interface UpdateRow {
  id: string;
  values: FieldValues;
}

/** One record as read by VQL: lifecycle state plus the requested fields. */
export interface RecordState {
  id: string;
  state: string;
  status: string;
  values: FieldValues;
}

export interface LockInfo {
  locked: boolean;
  lockedBy?: string;
  lockedSince?: string;
}
