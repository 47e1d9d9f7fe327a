import type { FieldValues } from '../field-values';

/** What happened to one row of a bulk update, in the vocabulary of the whole product. */
export type UpdateStatus = 'updated' | 'unchanged' | 'locked' | 'transient' | 'permanent';

export interface UpdateOutcome {
  id: string;
  status: UpdateStatus;
  errorType?: string;
  message?: string;
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
