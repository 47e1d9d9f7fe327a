import { sameFieldValue, type FieldValues } from './field-values';
import type { OwnWrite } from './record-activities';

// The conflict guard: never overwrite a value a person changed by hand while the record was locked. Pure functions
// of what Vault holds now (read right before the write), the values the batch saw, and those to write; the write
// path (activities/guarded-writes.ts) runs them, and test/record-policy.test.ts covers them.

/** Fields a person changed since the batch saw them, to something other than what we want to write. */
export function conflictingFields(current: FieldValues, baseline: FieldValues, desired: FieldValues): string[] {
  return Object.keys(desired).filter(
    (f) => f in baseline && !sameFieldValue(current[f], baseline[f]) && !sameFieldValue(current[f], desired[f]),
  );
}

/**
 * Of the conflicting fields, those whose current value capa-sync wrote itself (not a reviewer's edit), and of those,
 * the ones it wrote from a newer source than the values this workflow holds (which are then stale).
 */
export function ownWrites(
  conflicts: string[],
  current: FieldValues,
  written: Record<string, OwnWrite>,
  sourceTimestamp: string,
): { ours: string[]; newer: string[] } {
  const ours = conflicts.filter((f) => f in written && sameFieldValue(current[f], written[f].value));
  const newer = ours.filter((f) => (written[f].sourceTimestamp ?? '') > sourceTimestamp);
  return { ours, newer };
}
