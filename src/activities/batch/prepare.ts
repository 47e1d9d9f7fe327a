// A batch's first step: its rows into the store (prepareBatch: from the source, read as a local file, or for a
// revert from the audit trail) and a revert's start (beginRevert: cancelling the reverted batch's waiting workflows).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { revertRefusal, stageRevert } from '../../change-control/revert';
import type { BatchActivities } from '../../contracts/batch-activities';
import type { RevertRequest } from '../../contracts/batch-messages';
import { cancelUpdate, type OperatorDecision } from '../../contracts/record-messages';
import { prepareBatch } from '../../sources/prepare-batch';
import { displaySource, downloadSource, isUrl, localSourceFile } from '../../sources/read-source';
import { isStaged } from '../../store/staged-sources';
import { StoreRefused } from '../../store/store-errors';
import { recordWorkflows } from '../../temporal/record-workflows';
import { asActivityFailure } from '../activity-failures';
import { appendBatchDecision } from './decisions';
import { type BatchActivityDeps, inParallel, START_CONCURRENCY } from './deps';

/** The source as a local file: a URL downloaded, a staged file copied from the store, a path read where it is. */
async function localSource(source: string, scratch: string, deps: BatchActivityDeps, signal: AbortSignal) {
  if (isUrl(source)) return downloadSource(source, scratch, { maxBytes: deps.sourceMaxBytes, signal });
  if (isStaged(source)) return { file: await deps.store.staged.materialize(source, scratch) };
  return { file: await localSourceFile(source, ' (give a URL, or run the batch with the CLI)') };
}

/** Record ids of this object's record workflows that are still running (they get new values, not a bulk write). */
async function runningRecordIds(deps: BatchActivityDeps): Promise<string[]> {
  return (await recordWorkflows(deps.temporal, { object: deps.object, running: true })).map((r) => r.recordId);
}

/**
 * Cancels the record workflows still waiting to write a batch's values (those of some records, where given), each
 * with the operator's decision: the same update id on a retry, so each is cancelled once. One that ended meanwhile
 * is passed over; the count is of those cancelled now.
 */
async function cancelWaitingOf(
  deps: BatchActivityDeps,
  revertId: string,
  revert: RevertRequest,
  decision: OperatorDecision,
): Promise<number> {
  const only = revert.records && new Set(revert.records);
  const ids = (await recordWorkflows(deps.temporal, { object: deps.object, running: true, batchId: revert.of }))
    .filter((r) => !only || only.has(r.recordId))
    .map((r) => r.workflowId);
  let cancelled = 0;
  await inParallel(ids, START_CONCURRENCY, async (workflowId) => {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    const outcome = await handle
      .executeUpdate(cancelUpdate, { args: [decision], updateId: `${revertId}/cancel` })
      .catch((err) => {
        if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return undefined;
        throw err;
      });
    if (outcome === 'cancelled') cancelled++;
  });
  return cancelled;
}

export function prepareActivities(deps: BatchActivityDeps): Pick<BatchActivities, 'prepareBatch' | 'beginRevert'> {
  return {
    async prepareBatch({ batchId, source, kind, revert }) {
      // An attempt Temporal gave up on (its heartbeats timed out) stops; the store's transaction keeps it from
      // leaving half a batch, and a second attempt waits for the first's transaction to end.
      const signal = Context.current().cancellationSignal;
      const runId = Context.current().info.workflowExecution?.runId ?? batchId;
      const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'capa-source-'));
      // Temporal lists the running record workflows while the source is read.
      const running = runningRecordIds(deps);
      running.catch(() => undefined); // awaited by the prepare; a prepare that fails first does not ask
      try {
        const prepared = await asActivityFailure(() =>
          deps.store.batches.prepare(
            {
              batchId,
              runId,
              kind: kind ?? 'batch',
              source: displaySource(source),
              object: deps.object,
              mapping: deps.mapping,
              pageSize: deps.pageSize,
              reverts: revert?.of,
            },
            async (stage) =>
              revert
                ? stageRevert(deps.store.audit.writtenBy(revert.of, revert.records), deps.pageSize, stage)
                : prepareBatch(
                    await localSource(source, scratch, deps, signal),
                    deps.mapping,
                    deps.pageSize,
                    stage,
                    signal,
                  ),
            () => running,
          ),
        );
        deps.metrics.rowsProcessed({ rejected: prepared.rejected, superseded: prepared.superseded });
        deps.logger.info('batch prepared', { batchId, ...prepared });
        return prepared;
      } finally {
        await fs.promises.rm(scratch, { recursive: true, force: true });
      }
    },

    async beginRevert({ batchId, revert }) {
      return asActivityFailure(async () => {
        const refusal = revertRefusal(revert.of, await deps.store.batches.batch(revert.of));
        if (refusal) throw new StoreRefused(refusal);
        const reason = `revert ${batchId} of batch ${revert.of}: ${revert.reason}`;
        const cancelled = await cancelWaitingOf(deps, batchId, revert, {
          operator: revert.operator,
          reason,
          origin: revert.origin,
        });
        const records = revert.records ? `records ${revert.records.join(', ')} of ` : '';
        await appendBatchDecision(
          deps,
          {
            batchId,
            ...{ actor: revert.operator, reason: revert.reason, decision: 'revert' },
            outcome: `restores what batch ${revert.of} wrote to ${records || 'every record of it'}; ${cancelled} of its waiting record workflows cancelled`,
            origin: { via: 'start', ...revert.origin },
          },
          `${batchId}/revert`,
        );
        deps.logger.info('revert begun', { batchId, of: revert.of, cancelled });
        return { cancelled };
      });
    },
  };
}
