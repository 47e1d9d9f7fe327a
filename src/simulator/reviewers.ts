import type { FieldValues } from '../contracts/field-values';
import type { VaultStore } from './store';

export interface ReviewPlan {
  /** Each locked record is approved at a random time within this many ms from now... */
  withinMs: number;
  /** ...and this fraction of them is first edited by hand (the fields given by editOf). */
  editFraction: number;
  editOf: (id: string) => FieldValues;
  toState?: string;
  random: () => number;
}

export const REVIEWER = 'reviewer@example.com';

/**
 * Scripts the reviewers of every locked record: approvals spread over a time window, some after a manual edit.
 * Returns the ids that will be edited, so a harness knows which records must stop for a decision.
 */
export function scheduleReviews(store: VaultStore, plan: ReviewPlan): Set<string> {
  const edited = new Set<string>();
  const now = store.options.now();
  for (const rec of store.records.values()) {
    if (!store.isLocked(rec)) continue;
    const edit = plan.random() < plan.editFraction ? { fields: plan.editOf(rec.id), user: REVIEWER } : undefined;
    if (edit) edited.add(rec.id);
    const atMs = now + Math.floor(plan.random() * plan.withinMs);
    rec.unlock = { atMs, toState: plan.toState ?? 'approved_state__c', ...(edit ? { edit } : {}) };
  }
  return edited;
}
