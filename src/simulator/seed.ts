import { CAPA_LOCKED_STATES as LOCKED_STATES } from '../vault/dialect';
import type { SimRecord } from './store';

export interface SampleOptions {
  count: number;
  lockedFraction: number;
  idPrefix?: string;
}

const PRIORITIES = ['High', 'Medium', 'Low'];

/** The CAPA object's record id prefix (Vault's ids start with their object's). */
export const CAPA_ID_PREFIX = 'V7T';

export const sampleRecordId = (i: number, prefix = CAPA_ID_PREFIX) => `${prefix}${String(i + 1).padStart(9, '0')}`;

/** Deterministic sample CAPA records: every 1/lockedFraction-th record is Under Review or Pending Approval. */
export function sampleRecords({
  count,
  lockedFraction,
  idPrefix,
}: SampleOptions): Array<Partial<SimRecord> & { id: string }> {
  const every = lockedFraction > 0 ? Math.max(1, Math.round(1 / lockedFraction)) : Infinity;
  return Array.from({ length: count }, (_, i) => ({
    id: sampleRecordId(i, idPrefix),
    state__v: i % every === every - 1 ? LOCKED_STATES[Math.floor(i / every) % 2] : 'in_progress_state__c',
    fields: {
      priority__c: PRIORITIES[i % 3],
      risk_score__c: (i * 7) % 101,
      due_date__c: '2027-01-31',
      owner__c: `owner${i % 17}@example.com`,
    },
  }));
}
