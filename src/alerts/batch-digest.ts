import type { BatchSummary, RowResult } from '../contracts/batch-messages';
import type { Alert } from './alert-channel';

/** How many waiting and failed records a digest names; the report has them all. */
export const DIGEST_RECORD_LINES = 50;

/** The nightly digest: the batch's counts and its first waiting and failed records (of one team's, where named). */
export function batchDigest(
  { batchId, inputRows, ignoredColumns, counts, auditAnchor }: BatchSummary,
  notable: RowResult[],
  team?: string,
): Alert {
  const line = (r: RowResult) =>
    `row ${r.row} ${r.recordId ?? ''}: ${r.outcome}${r.vaultState ? ` (${r.vaultState})` : ''}${r.errorType ? ` ${r.errorType}` : ''}${r.message ? `: ${r.message}` : ''}`;
  return {
    title: `capa-sync batch ${batchId}${team ? ` (team ${team})` : ''}: ${counts.updated} updated, ${counts.waiting} waiting for unlock, ${counts.failed} failed, ${counts.rejected} rejected`,
    lines: [
      `${inputRows} ${team ? `rows of team ${team}'s records` : 'input rows'}: ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
      ...(ignoredColumns.length
        ? [`Ignored columns (not on the allow-list, never written): ${ignoredColumns.join(', ')}`]
        : []),
      ...notable.slice(0, DIGEST_RECORD_LINES).map(line),
      ...(counts.waiting + counts.failed > DIGEST_RECORD_LINES
        ? [`... and ${counts.waiting + counts.failed - DIGEST_RECORD_LINES} more in the report`]
        : []),
      // A copy of the signed head outside the database: keep it, and `audit verify --anchor` checks the trail by it.
      ...(auditAnchor
        ? [
            `Audit trail head signed at entry ${auditAnchor.seq} (key ${auditAnchor.keyId}): ${JSON.stringify(auditAnchor)}`,
          ]
        : []),
    ],
    fields: {
      ...{ kind: 'batch-digest', batchId, inputRows, counts, ...(team ? { team } : {}) },
      ...(auditAnchor ? { auditAnchor } : {}),
    },
  };
}
