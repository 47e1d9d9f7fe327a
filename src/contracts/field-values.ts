// Field values as Vault types them, and the one rule for when two are the same: shared by the workflows, the
// activities, the store and the Vault client, so it imports nothing.

/** Field values of one record as Vault stores them (picklists as strings, numbers, ISO dates). */
export type FieldValue = string | number | boolean | null;
export type FieldValues = Record<string, FieldValue>;

/** The one rule for an empty field: null, missing or "" (Vault answers any of them for a field with no value). */
export const isEmptyValue = (v: FieldValue | undefined): boolean => v === undefined || v === null || v === '';

/** A change that empties a field that held a value (the plan and the approval gate count these apart). */
export const emptiesField = (before: FieldValue | undefined, after: FieldValue | undefined): boolean =>
  isEmptyValue(after) && !isEmptyValue(before);

/** How reports and messages show a value: `(empty)` for an empty one, else as `show` writes it. */
export const shownValue = (v: FieldValue | undefined, show: (v: FieldValue) => string = String): string =>
  isEmptyValue(v) ? '(empty)' : show(v!);

/**
 * The one rule for "the same value" of a Vault field (the conflict guard, the audit, lost-answer checks): Vault types
 * each field, so a number field's value read back as text is that number ("16", "16.0" and 16 are the same), and
 * an empty field is empty however it comes (null, missing or ""). Anything else is text, compared exactly: dates
 * are ISO text ("2027-04-30" is not "2027-4-30"), picklist names are case-sensitive.
 */
export function sameFieldValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (isEmptyValue(a) || isEmptyValue(b)) return isEmptyValue(a) && isEmptyValue(b);
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'string') return b.trim() !== '' && Number(b) === a;
  if (typeof b === 'number' && typeof a === 'string') return a.trim() !== '' && Number(a) === b;
  return String(a) === String(b);
}

/** The fields whose value in `before` differs from the value in `values`: what writing `values` changes. */
export const changedFields = (values: FieldValues, before: FieldValues): string[] =>
  Object.keys(values).filter((field) => !sameFieldValue(before[field], values[field]));

/** Whether a record already holds every one of the values: writing them would change nothing. */
export const holdsValues = (current: FieldValues, values: FieldValues): boolean =>
  changedFields(values, current).length === 0;
