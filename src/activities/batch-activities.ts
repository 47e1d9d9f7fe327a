import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, WorkflowIdReusePolicy, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import pLimit from 'p-limit';
import type { AlertChannel } from '../alerts/alert-channel';
import { batchDigest, DIGEST_RECORD_LINES } from '../alerts/batch-digest';
import type { Logger } from '../observability/logger';
import type { SyncMetrics } from '../observability/metrics';
import { writeBatchReport } from '../reports/batch-report';
import { Mapping, picklistFields, writableFields } from '../sources/mapping';
import { prepareBatch } from '../sources/prepare-batch';
import { displaySource, downloadSource, isUrl, localSourceFile } from '../sources/read-source';
import type { ValidRow } from '../sources/validate-row';
import { changeEntries, type DecisionEntry } from '../store/audit-trail';
import type { HandOff } from '../store/batch-store';
import type { Store } from '../store/store';
import type { AuditSigner } from '../audit/signing-key';
import { isStaged } from '../store/staged-sources';
import { planPageRows } from '../change-control/plan-decisions';
import { GateFigures, gateFindings, type GateSettings } from '../change-control/approval-gate';
import { heldAlert } from '../alerts/batch-held';
import { writePlanReport } from '../change-control/plan-report';
import { MAX_ROWS_PER_UPDATE, VaultClient } from '../vault/client';
import { isLockedState } from '../vault/dialect';
import type { RecordWriteOutcome } from '../vault/types';
import { classifyPage, settleUpdates } from './page-decisions';
import { type RevertRequest, type RowResult, zeroCounts } from '../contracts/batch-messages';
import { revertRefusal, stageRevert } from '../change-control/revert';
import { StoreRefused } from '../store/store-errors';
import {
  cancelUpdate,
  type OperatorDecision,
  RECORD_WORKFLOW_TYPE,
  recordWorkflowId,
  RecordWorkflowOptions,
  RecordWorkflowType,
  setDesiredValuesSignal,
} from '../contracts/record-messages';
import { recordSearchAttributes } from '../contracts/search-attributes';
import { asActivityFailure } from './activity-failures';
import type { BatchActivities } from '../contracts/batch-activities';
import { recordSummary } from '../contracts/workflow-descriptions';
import { ensureLockWatcher, recordWorkflows } from '../temporal/record-workflows';

export interface BatchActivityDeps {
  /** Direct (not coalesced): the batch already sends full requests. */
  vault: VaultClient;
  temporal: Client;
  taskQueue: string;
  object: string;
  mapping: Mapping;
  recordOptions: RecordWorkflowOptions;
  store: Store;
  signer: AuditSigner;
  gate: GateSettings;
  approvalTimeoutSeconds: number;
  /** Where the finish step writes the batch's report files (the store holds every row either way). */
  reportsDir: string;
  pageSize: number;
  updateConcurrency: number;
  sourceMaxBytes: number;
  alerts: AlertChannel;
  logger: Logger;
  metrics: SyncMetrics;
}

const TRANSIENT_ROUNDS = 3;
const START_CONCURRENCY = 50;

/** Runs fn over items with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const run = pLimit(limit);
  await Promise.all(items.map((item) => run(() => fn(item))));
}

/** The source as a local file: a URL downloaded, a staged file copied from the store, a path read where it is. */
async function localSource(source: string, scratch: string, deps: BatchActivityDeps, signal: AbortSignal) {
  if (isUrl(source)) return downloadSource(source, scratch, { maxBytes: deps.sourceMaxBytes, signal });
  if (isStaged(source)) return { file: await deps.store.staged.materialize(source, scratch) };
  return { file: await localSourceFile(source, ' (give a URL, or run the batch with the CLI)') };
}

export function createBatchActivities(deps: BatchActivityDeps): BatchActivities {
  const fields = writableFields(deps.mapping);

  /** Record ids of this object's record workflows that are still running (they get new values, not a bulk write). */
  async function runningRecordIds(): Promise<string[]> {
    return (await recordWorkflows(deps.temporal, { object: deps.object, running: true })).map((r) => r.recordId);
  }

  /**
   * Cancels the record workflows still waiting to write a batch's values (those of some records, where given), each
   * with the operator's decision: the same update id on a retry, so each is cancelled once. One that ended meanwhile
   * is passed over; the count is of those cancelled now.
   */
  async function cancelWaitingOf(revertId: string, revert: RevertRequest, decision: OperatorDecision): Promise<number> {
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

  /** A decision on a whole batch (its approval, rejection, revert) in the audit trail, once per `writeId`. */
  async function appendBatchDecision(
    d: Pick<DecisionEntry, 'batchId' | 'actor' | 'reason' | 'decision' | 'outcome' | 'origin'>,
    writeId: string,
  ): Promise<void> {
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    const entry: DecisionEntry = {
      kind: 'decision',
      time: new Date().toISOString(),
      object: deps.object,
      workflowId,
      values: {},
      ...d,
    };
    await deps.store.audit.append([entry], writeId);
  }

  /** Hands a record to its workflow: signal-with-start, so a waiting one gets the new values and none is doubled. */
  async function deferToRecordWorkflow(
    { row, baseline, vaultState }: HandOff,
    batchId: string,
    sourceTimestamp: string,
  ): Promise<string> {
    const workflowId = recordWorkflowId(deps.object, row.id);
    const desired = {
      desired: row.values,
      baseline,
      sourceTimestamp: row.sourceTimestamp ?? sourceTimestamp,
      batchId,
    };
    await deps.temporal.workflow.signalWithStart<RecordWorkflowType, [typeof desired]>(RECORD_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [{ object: deps.object, recordId: row.id, options: deps.recordOptions, vaultState, ...desired }],
      signal: setDesiredValuesSignal,
      signalArgs: [desired],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: recordSearchAttributes({
        state: 'waiting-for-unlock',
        recordId: row.id,
        batchId,
        vaultState,
      }),
      memo: { object: deps.object, fields: Object.keys(row.values) },
      staticSummary: recordSummary(row.id, batchId, row.values),
    });
    return workflowId;
  }

  /** Bulk-updates rows (at most 500 a call, a few calls at once); transient rows are sent again for a few rounds. */
  async function bulkUpdate(rows: ValidRow[]): Promise<Map<string, RecordWriteOutcome>> {
    const outcomes = new Map<string, RecordWriteOutcome>();
    let pending = rows;
    for (let round = 1; pending.length; round++) {
      const chunks: ValidRow[][] = [];
      for (let i = 0; i < pending.length; i += MAX_ROWS_PER_UPDATE)
        chunks.push(pending.slice(i, i + MAX_ROWS_PER_UPDATE));
      await inParallel(chunks, deps.updateConcurrency, async (chunk) => {
        const results = await deps.vault.bulkUpdate(
          deps.object,
          chunk.map((r) => ({ id: r.id, values: r.values })),
        );
        results.forEach((o) => outcomes.set(o.id, o));
      });
      if (round >= TRANSIENT_ROUNDS) break;
      pending = pending.filter((r) => outcomes.get(r.id)?.status === 'transient');
      if (pending.length) await sleep(1000 * round);
    }
    return outcomes;
  }

  /** Where the dialect has a lock endpoint, the digest names who holds the first waiting records' locks. */
  async function addLockHolders(rows: RowResult[]): Promise<void> {
    if (!deps.vault.dialect.lockEndpoint) return;
    const waiting = rows.filter((r) => r.outcome === 'waiting').slice(0, DIGEST_RECORD_LINES);
    await inParallel(waiting, 5, async (r) => {
      const lock = await deps.vault.readLock(deps.object, r.recordId!).catch(() => undefined);
      if (lock?.lockedBy)
        r.message = `locked by ${lock.lockedBy}${lock.lockedSince ? ` since ${lock.lockedSince}` : ''}`;
    });
  }

  const activities: BatchActivities = {
    async prepareBatch({ batchId, source, kind, revert }) {
      // An attempt Temporal gave up on (its heartbeats timed out) stops; the store's transaction keeps it from
      // leaving half a batch, and a second attempt waits for the first's transaction to end.
      const signal = Context.current().cancellationSignal;
      const runId = Context.current().info.workflowExecution?.runId ?? batchId;
      const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'capa-source-'));
      // Temporal lists the running record workflows while the source is read.
      const running = runningRecordIds();
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
        const cancelled = await cancelWaitingOf(batchId, revert, {
          operator: revert.operator,
          reason,
          origin: revert.origin,
        });
        const records = revert.records ? `records ${revert.records.join(', ')} of ` : '';
        await appendBatchDecision(
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

    async applyPage({ batchId, page, sourceTimestamp }) {
      return asActivityFailure(async () => {
        const { applied, rows } = await deps.store.batches.page(batchId, page);
        if (applied) return { ...(await deps.store.batches.pageCounts(batchId, page)), waiting: 0 }; // a retry after success
        const read = await deps.vault.readStates(
          deps.object,
          rows.map((r) => r.id),
          fields,
        );
        const states = new Map(read.map((s) => [s.id, s]));
        const classes = classifyPage(rows, states, (state) => isLockedState(deps.vault.dialect, state));
        const { results, toHandOff, toUpdate, written } = classes;
        const intent = toUpdate.filter((row) => !row.valuesBefore);
        await deps.store.batches.saveIntent(
          batchId,
          intent.map((row) => ({ row: row.row, values: states.get(row.id)!.values })),
        );
        settleUpdates(classes, await bulkUpdate(toUpdate), states);
        const time = new Date().toISOString();
        const audit = written.flatMap(({ row, state }) =>
          changeEntries(
            {
              time,
              object: deps.object,
              recordId: row.id,
              batchId,
              actor: 'integration',
              sourceTimestamp: row.sourceTimestamp ?? sourceTimestamp,
            },
            row.values,
            state.values,
          ),
        );
        // A page's outcomes and its audit entries are stored together or not at all.
        const counts = await deps.store.transaction(async (tx) => {
          await tx.audit.append(audit, `${batchId}/page-${page}`);
          return tx.batches.savePage(batchId, page, results, toHandOff);
        });
        deps.metrics.rowsProcessed(counts);
        deps.logger.info('batch page applied', {
          batchId,
          page,
          rows: rows.length,
          handOffs: toHandOff.length,
          ...counts,
        });
        return counts;
      });
    },

    async handOffPage({ batchId, page, sourceTimestamp }) {
      const handOffs = await deps.store.batches.handOffs(batchId, page);
      if (handOffs.length)
        await ensureLockWatcher(deps.temporal, {
          ...{ object: deps.object, taskQueue: deps.taskQueue },
          tickSeconds: deps.recordOptions.tickScheduleSeconds[0],
        });
      const waiting: RowResult[] = [];
      await inParallel(handOffs, START_CONCURRENCY, async (handOff) => {
        const workflowId = await deferToRecordWorkflow(handOff, batchId, sourceTimestamp);
        const { row } = handOff;
        waiting.push({
          row: row.row,
          recordId: row.id,
          outcome: 'waiting',
          workflowId,
          vaultState: handOff.vaultState,
        });
      });
      // Only the page's waiting rows: its other outcomes were counted when it was applied. The lock watcher starts
      // from the page's read of each record.
      const handedOff = await deps.store.transaction(async (tx) => {
        // A record Vault refused although it reads unlocked (raced, or locked by an error type) is told at once.
        const locked = (state?: string) => state !== undefined && isLockedState(deps.vault.dialect, state);
        const reads = waiting.map((r) => ({
          recordId: r.recordId!,
          state: r.vaultState,
          ...(locked(r.vaultState) ? { told: r.vaultState } : {}),
        }));
        await tx.watchers.noteReads(deps.object, reads);
        return tx.batches.saveHandedOff(batchId, page, waiting);
      });
      const counts = { ...zeroCounts(), waiting: handedOff.waiting };
      deps.metrics.rowsProcessed({ waiting: waiting.length });
      deps.logger.info('batch page handed off', { batchId, page, waiting: waiting.length });
      return counts;
    },

    async alertBatchFailed({ batchId, source, reason }) {
      deps.logger.error('batch failed', { batchId, reason });
      await deps.store.sentAlerts.sendOnce(`batch-failed/${batchId}`, deps.alerts, {
        title: `capa-sync batch ${batchId} failed: nothing was applied`,
        lines: [reason, `Source: ${displaySource(source)}`, 'Fix the source and run the batch again (a new batch id).'],
        fields: { kind: 'batch-failed', batchId, reason },
      });
    },

    async planPage({ batchId, page }) {
      return asActivityFailure(async () => {
        const { rows } = await deps.store.batches.page(batchId, page);
        const read = await deps.vault.readStates(
          deps.object,
          rows.map((r) => r.id),
          fields,
        );
        const states = new Map(read.map((s) => [s.id, s]));
        await deps.store.batches.savePlan(
          batchId,
          planPageRows(rows, states, (state) => isLockedState(deps.vault.dialect, state)),
        );
      });
    },

    async checkGate({ batchId }) {
      return asActivityFailure(async () => {
        const figures = new GateFigures(picklistFields(deps.mapping));
        for await (const r of deps.store.batches.planResults(batchId)) figures.add(r);
        const objectRecords =
          deps.gate.maxChangedPercentOfObject < 100 ? await deps.vault.countRecords(deps.object) : undefined;
        const findings = gateFindings(figures, deps.gate, objectRecords);
        if (findings.length) {
          const batch = (await deps.store.batches.batch(batchId))!;
          const plan = await writePlanReport(deps.store.batches, batch, path.join(deps.reportsDir, batchId));
          deps.logger.warn('batch held for approval', { batchId, findings });
          await deps.store.sentAlerts.sendOnce(`batch-held/${batchId}`, deps.alerts, heldAlert(plan, findings));
        }
        return { findings, timeoutSeconds: deps.approvalTimeoutSeconds };
      });
    },

    async recordBatchDecision(d) {
      const info = Context.current().info;
      const writeId = `${info.workflowExecution?.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
      const { batchId, operator: actor, reason, decision, outcome, origin } = d;
      await appendBatchDecision({ batchId, actor, reason, decision, outcome, origin }, writeId);
      return deps.store.audit.signHead(deps.signer, `${d.decision} of batch ${d.batchId} by ${d.operator}`);
    },

    async rejectBatch({ batchId, reason }) {
      await deps.store.batches.failUnwritten(batchId, 'BATCH_REJECTED', reason);
      await deps.store.sentAlerts.sendOnce(`batch-rejected/${batchId}`, deps.alerts, {
        title: `capa-sync batch ${batchId} rejected: nothing written`,
        lines: [reason],
        fields: { kind: 'batch-rejected', batchId },
      });
      return (await deps.store.batches.counts(batchId)).counts;
    },

    async finishPlan({ batchId }) {
      const plan = (await deps.store.batches.batch(batchId))!;
      return writePlanReport(deps.store.batches, plan, path.join(deps.reportsDir, batchId));
    },

    async finishBatch({ batchId }) {
      // The trail's head with every entry of the batch, signed and published with its result, report and digest.
      const anchor = await deps.store.audit.signHead(deps.signer, `batch ${batchId} finished`);
      await deps.store.batches.saveAuditAnchor(batchId, anchor);
      const batch = (await deps.store.batches.batch(batchId))!;
      const summary = await writeBatchReport(deps.store.batches, batch, path.join(deps.reportsDir, batchId));
      const notable = await deps.store.batches.firstResults(batchId, ['waiting', 'failed'], DIGEST_RECORD_LINES);
      await addLockHolders(notable);
      await deps.store.batches.finish(batchId);
      await deps.store.sentAlerts.sendOnce(`batch-digest/${batchId}`, deps.alerts, batchDigest(summary, notable));
      return summary;
    },
  };
  return activities;
}
