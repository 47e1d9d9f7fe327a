/** Field values of one record as Vault stores them (picklists as strings, numbers, ISO dates). */
export type FieldValue = string | number | boolean | null;
export type FieldValues = Record<string, FieldValue>;

/** Vault's JSON keeps a field's type (numbers as numbers, picklists and dates as text): a value is the same only
 * when strictly equal, with a missing value the same as null. */
export const sameFieldValue = (a: FieldValue | undefined, b: FieldValue | undefined): boolean =>
  (a ?? null) === (b ?? null);

/** The fields whose value in `before` differs from the value in `values`: what writing `values` changes. */
export const changedFields = (values: FieldValues, before: FieldValues): string[] =>
  Object.keys(values).filter((field) => !sameFieldValue(before[field], values[field]));

/** Whether a record already holds every one of the values: writing them would change nothing. */
export const holdsValues = (current: FieldValues, values: FieldValues): boolean =>
  changedFields(values, current).length === 0;

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
