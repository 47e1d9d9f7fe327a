// A batch's end: finishBatch signs the audit trail's head, writes the report and sends the digest (naming who
// holds the locks of the records still waiting); alertBatchFailed tells of a batch that failed before any write.
import path from 'node:path';
import { batchDigest, DIGEST_RECORD_LINES } from '../../alerts/batch-digest';
import type { BatchActivities } from '../../contracts/batch-activities';
import type { BatchSummary, RowResult } from '../../contracts/batch-messages';
import { writeBatchReport } from '../../reports/batch-report';
import { displaySource } from '../../sources/read-source';
import { type BatchActivityDeps, inParallel } from './deps';

/** Where the dialect has a lock endpoint, the digest names who holds the first waiting records' locks. */
async function addLockHolders(deps: BatchActivityDeps, rows: RowResult[]): Promise<void> {
  if (!deps.vault.dialect.lockEndpoint) return;
  const waiting = rows.filter((r) => r.outcome === 'waiting').slice(0, DIGEST_RECORD_LINES);
  await inParallel(waiting, 5, async (r) => {
    const lock = await deps.vault.readLock(deps.object, r.recordId!).catch(() => undefined);
    if (lock?.lockedBy) r.message = `locked by ${lock.lockedBy}${lock.lockedSince ? ` since ${lock.lockedSince}` : ''}`;
  });
}

/**
 * Each team other than the operators (who have the whole digest) gets a digest of its own records: their counts,
 * and its first waiting and failed ones. Only where a routing file's rules route records to teams.
 */
async function sendTeamDigests(deps: BatchActivityDeps, summary: BatchSummary): Promise<void> {
  const { routing } = deps.alerts;
  if (!routing.rules.length) return;
  const { batchId } = summary;
  for (const [team, counts] of await deps.store.batches.teamCounts(batchId)) {
    if (team === routing.operators) continue;
    const notable = await deps.store.batches.firstResults(batchId, ['waiting', 'failed'], DIGEST_RECORD_LINES, team);
    await addLockHolders(deps, notable);
    const inputRows = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const digest = batchDigest({ ...summary, counts, inputRows }, notable, team);
    await deps.alerts.toTeam(`batch-digest/${batchId}/${team}`, team, digest);
  }
}

export function finishActivities(deps: BatchActivityDeps): Pick<BatchActivities, 'finishBatch' | 'alertBatchFailed'> {
  return {
    async finishBatch({ batchId }) {
      // The trail's head with every entry of the batch, signed and published with its result, report and digest.
      const anchor = await deps.store.audit.signHead(deps.signer, `batch ${batchId} finished`);
      await deps.store.batches.saveAuditAnchor(batchId, anchor);
      const batch = (await deps.store.batches.batch(batchId))!;
      const summary = await writeBatchReport(deps.store.batches, batch, path.join(deps.reportsDir, batchId));
      const notable = await deps.store.batches.firstResults(batchId, ['waiting', 'failed'], DIGEST_RECORD_LINES);
      await addLockHolders(deps, notable);
      await deps.store.batches.finish(batchId);
      await deps.alerts.toOperators(`batch-digest/${batchId}`, batchDigest(summary, notable));
      await sendTeamDigests(deps, summary);
      return summary;
    },

    async alertBatchFailed({ batchId, source, reason }) {
      deps.logger.error('batch failed', { batchId, reason });
      await deps.alerts.toOperators(`batch-failed/${batchId}`, {
        title: `capa-sync batch ${batchId} failed: nothing was applied`,
        lines: [reason, `Source: ${displaySource(source)}`, 'Fix the source and run the batch again (a new batch id).'],
        fields: { kind: 'batch-failed', batchId, reason },
      });
    },
  };
}
