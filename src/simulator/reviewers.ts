import type { FieldValues } from '../contracts/field-values';
import type { VaultStore } from './store';

export interface ReviewPlan {
  /** Each locked record is approved at a random time within this many ms from now... */
  withinMs: number;
  /** ...and this fraction of them is first edited by hand (the fields given by editOf). */
  editFraction: number;
  editOf: (id: string) => FieldValues;
  /** This fraction (of the others) is edited by hand `lateEditMs` after the integration first read it unlocked. */
  lateEditFraction?: number;
  lateEditMs?: number;
  toState?: string;
  random: () => number;
}

export const REVIEWER = 'reviewer@example.com';

/**
 * Scripts the reviewers of every locked record: approvals spread over a time window, some after a manual edit, some
 * edited just after the integration read them unlocked. Returns the ids of each kind, so a harness knows which
 * records may stop for a decision.
 */
export function scheduleReviews(store: VaultStore, plan: ReviewPlan): { edited: Set<string>; editedLate: Set<string> } {
  const edited = new Set<string>();
  const editedLate = new Set<string>();
  const now = store.options.now();
  for (const rec of store.records.values()) {
    if (!store.isLocked(rec)) continue;
    const draw = plan.random();
    const edit = draw < plan.editFraction ? { fields: plan.editOf(rec.id), user: REVIEWER } : undefined;
    const late = !edit && draw < plan.editFraction + (plan.lateEditFraction ?? 0);
    if (edit) edited.add(rec.id);
    if (late) editedLate.add(rec.id);
    const editAfterRead = late
      ? { editAfterRead: { afterMs: plan.lateEditMs ?? 5_000, fields: plan.editOf(rec.id), user: REVIEWER } }
      : {};
    const atMs = now + Math.floor(plan.random() * plan.withinMs);
    rec.unlock = { atMs, toState: plan.toState ?? 'approved_state__c', ...(edit ? { edit } : {}), ...editAfterRead };
  }
  return { edited, editedLate };
}
