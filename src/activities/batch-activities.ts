import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client, WorkflowIdReusePolicy } from '@temporalio/client';
import type { AlertChannel } from '../alerts/alert-channel';
import { changeEntries, type AuditTrail } from '../audit/audit-trail';
import type { Logger } from '../logger';
import type { SyncMetrics } from '../metrics';
import { writeBatchReport } from '../reports/batch-report';
import { Mapping, writableFields } from '../sources/mapping';
import {
  batchDir,
  batchFiles,
  PreparedBatch,
  prepareBatch,
  readJsonLines,
  readPage,
  Superseded,
} from '../sources/prepare-batch';
import { displaySource, downloadSource, isUrl, sourceLocation } from '../sources/read-source';
import { SourceError } from '../sources/source-error';
import type { Rejection, ValidRow } from '../sources/validate-row';
import { MAX_ROWS_PER_UPDATE, VaultClient } from '../vault/client';
import { isLockedState } from '../vault/dialect';
import { holdsValues, type RecordState, type UpdateOutcome } from '../vault/types';
import type { capaRecordWorkflow } from '../workflows/record';
import { recordWorkflowId, RecordWorkflowOptions, setDesiredValuesSignal } from '../workflows/record-messages';
import { CapaBatchId, CapaRecordId, CapaSyncState, CapaVaultState } from '../workflows/search-attributes';
import { countOutcomes } from '../reports/batch-report';
import { asActivityFailure } from './record-activities';
import type { BatchActivities, RowResult } from './batch-types';

export interface BatchActivityDeps {
  /** Direct (not coalesced): the batch already sends full requests. */
  vault: VaultClient;
  temporal: Client;
  taskQueue: string;
  object: string;
  mapping: Mapping;
  recordOptions: RecordWorkflowOptions;
  dataDir: string;
  pageSize: number;
  updateConcurrency: number;
  sourceMaxBytes: number;
  audit: AuditTrail;
  alerts: AlertChannel;
  logger: Logger;
  metrics: SyncMetrics;
}

const TRANSIENT_ROUNDS = 3;
const START_CONCURRENCY = 50;
const DIGEST_RECORD_LINES = 50;

/** A row whose record goes to its record workflow, with the Vault state the batch saw (its baseline). */
interface HandOff {
  row: ValidRow;
  state: RecordState;
}

/** Writes JSON Lines atomically: a retried activity sees the file whole or not at all. */
async function writeWhole(file: string, items: unknown[]): Promise<void> {
  await fs.promises.writeFile(file + '.tmp', items.map((i) => JSON.stringify(i) + '\n').join(''));
  await fs.promises.rename(file + '.tmp', file);
}

/** Runs fn over items with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** A local source file that can be read, or a SourceError saying why not. */
async function sourceFile(source: string): Promise<string> {
  const file = sourceLocation(source);
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (!stat) throw new SourceError(`source file not found: ${file}`);
  if (!stat.isFile()) throw new SourceError(`source is not a file: ${file}`);
  return file;
}

/**
 * Marks a batch's folder as this workflow run's. A folder left by an earlier run under the same id (possible once
 * Temporal has forgotten that run) is refused: its page results would be taken for this batch's.
 */
async function claimFolder(dir: string, batchId: string, source: string): Promise<void> {
  const runId = Context.current().info.workflowExecution?.runId ?? batchId;
  const file = path.join(dir, 'owner.json');
  const owner = await fs.promises.readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as { runId: string; source: string },
    () => undefined,
  );
  if (owner && owner.runId !== runId)
    throw new SourceError(
      `batch id ${batchId} already holds an earlier batch (source ${displaySource(owner.source)}); use a new id`,
    );
  if (!owner) await fs.promises.writeFile(file, JSON.stringify({ runId, source }));
}

/** A problem with the source itself fails the batch at once: the same input would fail every retry. */
async function asSourceFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SourceError) throw ApplicationFailure.nonRetryable(err.message, 'SourceError');
    throw err;
  }
}

export function createBatchActivities(deps: BatchActivityDeps): BatchActivities {
  const dirOf = (batchId: string) => batchDir(deps.dataDir, batchId);
  const fields = writableFields(deps.mapping);
  const loadPrepared = async (dir: string) =>
    JSON.parse(await fs.promises.readFile(batchFiles(dir).prepared, 'utf8')) as PreparedBatch;

  /** Record ids of this object's record workflows that are still running (they get new values, not a bulk write). */
  async function runningRecordIds(): Promise<string[]> {
    const prefix = recordWorkflowId(deps.object, '');
    const query = `WorkflowType = 'capaRecordWorkflow' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '${prefix}'`;
    const ids: string[] = [];
    for await (const wf of deps.temporal.workflow.list({ query })) ids.push(wf.workflowId.slice(prefix.length));
    return ids;
  }

  /** Hands a record to its workflow: signal-with-start, so a waiting one gets the new values and none is doubled. */
  async function deferToRecordWorkflow(
    row: ValidRow,
    state: RecordState,
    batchId: string,
    sourceTimestamp: string,
  ): Promise<string> {
    const workflowId = recordWorkflowId(deps.object, row.id);
    const desired = {
      desired: row.values,
      baseline: state.values,
      sourceTimestamp: row.sourceTimestamp ?? sourceTimestamp,
      batchId,
    };
    await deps.temporal.workflow.signalWithStart<typeof capaRecordWorkflow, [typeof desired]>('capaRecordWorkflow', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [{ object: deps.object, recordId: row.id, options: deps.recordOptions, ...desired }],
      signal: setDesiredValuesSignal,
      signalArgs: [desired],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: CapaSyncState, value: 'waiting-for-unlock' },
        { key: CapaRecordId, value: row.id },
        { key: CapaBatchId, value: batchId },
        { key: CapaVaultState, value: state.state },
      ],
      memo: { object: deps.object, fields: Object.keys(row.values) },
    });
    return workflowId;
  }

  /** Bulk-updates rows (at most 500 a call, a few calls at once); transient rows are sent again for a few rounds. */
  async function bulkUpdate(rows: ValidRow[]): Promise<Map<string, UpdateOutcome>> {
    const outcomes = new Map<string, UpdateOutcome>();
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
      if (pending.length) await new Promise((resolve) => setTimeout(resolve, 1000 * round));
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
    async processPage({ batchId, page, sourceTimestamp }) {
      const applied = await activities.applyPage({ batchId, page, sourceTimestamp });
      const handedOff = await activities.handOffPage({ batchId, page, sourceTimestamp });
      return { ...applied, waiting: handedOff.waiting };
    },

    async prepareBatch({ batchId, source }) {
      const dir = dirOf(batchId);
      await fs.promises.mkdir(dir, { recursive: true });
      // Temporal lists the running record workflows while the source is read.
      const [prepared, running] = await Promise.all([
        asSourceFailure(async () => {
          await claimFolder(dir, batchId, source);
          // An attempt Temporal gave up on (its heartbeats timed out) stops, so two never write one batch's files.
          const signal = Context.current().cancellationSignal;
          const input = isUrl(source)
            ? await downloadSource(source, dir, { maxBytes: deps.sourceMaxBytes, signal })
            : { file: await sourceFile(source) };
          return prepareBatch(input, deps.mapping, dir, deps.pageSize, signal);
        }),
        runningRecordIds(),
      ]);
      await fs.promises.writeFile(batchFiles(dir).running, JSON.stringify(running));
      deps.metrics.rowsProcessed({ rejected: prepared.rejected, superseded: prepared.superseded });
      deps.logger.info('batch prepared', { batchId, ...prepared, pageOffsets: undefined });
      return {
        inputRows: prepared.inputRows,
        pages: prepared.pageOffsets.length,
        rejected: prepared.rejected,
        superseded: prepared.superseded,
      };
    },

    async applyPage({ batchId, page, sourceTimestamp }) {
      return asActivityFailure(async () => {
        const dir = dirOf(batchId);
        const files = batchFiles(dir);
        if (fs.existsSync(files.results(page)))
          return countOutcomes(await readJsonLines<RowResult>(files.results(page))); // a retry after success
        const rows = await readPage(dir, await loadPrepared(dir), page);
        const running = new Set<string>(JSON.parse(await fs.promises.readFile(files.running, 'utf8')));
        const read = await deps.vault.readStates(
          deps.object,
          rows.map((r) => r.id),
          fields,
        );
        const states = new Map(read.map((s) => [s.id, s]));
        // An earlier attempt of this page may have died after Vault took its writes: those rows now hold our
        // values, and are reported and audited as written with the values that attempt saw before writing.
        const intent = await readJsonLines<RecordState>(files.intent(page));
        const earlier = new Map(intent.map((state) => [state.id, state]));
        const results: RowResult[] = [];
        const toHandOff: HandOff[] = [];
        const toUpdate: ValidRow[] = [];
        const written: HandOff[] = [];
        for (const row of rows) {
          const state = states.get(row.id);
          const before = earlier.get(row.id);
          if (!state)
            results.push({
              row: row.row,
              recordId: row.id,
              outcome: 'failed',
              errorType: 'RECORD_NOT_FOUND',
              message: 'no such record in Vault',
            });
          else if (before && holdsValues(state.values, row.values) && !holdsValues(before.values, row.values))
            written.push({ row, state: { ...state, values: before.values } });
          else if (running.has(row.id) || isLockedState(deps.vault.dialect, state.state))
            toHandOff.push({ row, state });
          else toUpdate.push(row);
        }
        const newlySent = toUpdate.filter((row) => !earlier.has(row.id)).map((row) => states.get(row.id)!);
        await writeWhole(files.intent(page), [...intent, ...newlySent]);
        const outcomes = await bulkUpdate(toUpdate);
        for (const row of toUpdate) {
          const o = outcomes.get(row.id)!;
          const state = states.get(row.id)!;
          // Locked since the state read, or still transient after the rounds (RACE_CONDITION, an unknown outcome
          // that reading back showed not applied): the record's own workflow writes it, retrying as long as it takes.
          if (o.status === 'locked' || o.status === 'transient') toHandOff.push({ row, state });
          else if (o.status === 'updated') written.push({ row, state });
          else if (o.status === 'unchanged')
            results.push({ row: row.row, recordId: row.id, outcome: 'unchanged', vaultState: state.state });
          else {
            results.push({
              row: row.row,
              recordId: row.id,
              outcome: 'failed',
              vaultState: state.state,
              errorType: o.errorType ?? o.status,
              message: o.message,
            });
          }
        }
        const time = new Date().toISOString();
        for (const { row, state } of written)
          results.push({ row: row.row, recordId: row.id, outcome: 'updated', vaultState: state.state });
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
        await deps.audit.append(audit, { id: `${batchId}/page-${page}`, retried: intent.length > 0 });
        await writeWhole(files.handOffs(page), toHandOff);
        await writeWhole(files.results(page), results); // last: its presence means the page was applied
        const counts = countOutcomes(results);
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
      const files = batchFiles(dirOf(batchId));
      if (fs.existsSync(files.waiting(page))) return countOutcomes(await readJsonLines<RowResult>(files.waiting(page)));
      const waiting: RowResult[] = [];
      await inParallel(
        await readJsonLines<HandOff>(files.handOffs(page)),
        START_CONCURRENCY,
        async ({ row, state }) => {
          const workflowId = await deferToRecordWorkflow(row, state, batchId, sourceTimestamp);
          waiting.push({ row: row.row, recordId: row.id, outcome: 'waiting', workflowId, vaultState: state.state });
        },
      );
      await writeWhole(files.waiting(page), waiting);
      const counts = countOutcomes(waiting);
      deps.metrics.rowsProcessed(counts);
      deps.logger.info('batch page handed off', { batchId, page, waiting: waiting.length });
      return counts;
    },

    async alertBatchFailed({ batchId, source, reason }) {
      deps.logger.error('batch failed', { batchId, reason });
      await deps.alerts.send({
        title: `capa-sync batch ${batchId} failed: nothing was applied`,
        lines: [reason, `Source: ${displaySource(source)}`, 'Fix the source and run the batch again (a new batch id).'],
        fields: { kind: 'batch-failed', batchId, reason },
      });
    },

    async finishBatch({ batchId }) {
      const dir = dirOf(batchId);
      const files = batchFiles(dir);
      const prepared = await loadPrepared(dir);
      const rows: RowResult[] = [];
      for (let page = 0; page < prepared.pageOffsets.length; page++) {
        rows.push(...(await readJsonLines<RowResult>(files.results(page))));
        rows.push(...(await readJsonLines<RowResult>(files.waiting(page))));
      }
      for (const r of await readJsonLines<Rejection>(files.rejected))
        rows.push({ row: r.row, outcome: 'rejected', field: r.field, message: r.reason });
      for (const s of await readJsonLines<Superseded>(files.superseded)) {
        rows.push({
          row: s.row,
          recordId: s.recordId,
          outcome: 'superseded',
          message: `superseded by row ${s.supersededBy}`,
        });
      }
      const summary = { batchId, inputRows: prepared.inputRows, ignoredColumns: prepared.ignoredColumns };
      const { files: reports, counts } = await writeBatchReport(dir, summary, rows);
      await addLockHolders(rows);
      await deps.alerts.send(digest(batchId, prepared, counts, rows));
      return { ...summary, counts, reports };
    },
  };
  return activities;
}

function digest(batchId: string, prepared: PreparedBatch, counts: ReturnType<typeof countOutcomes>, rows: RowResult[]) {
  const line = (r: RowResult) =>
    `row ${r.row} ${r.recordId ?? ''}: ${r.outcome}${r.vaultState ? ` (${r.vaultState})` : ''}${r.errorType ? ` ${r.errorType}` : ''}${r.message ? `: ${r.message}` : ''}`;
  const notable = rows.filter((r) => r.outcome === 'waiting' || r.outcome === 'failed');
  return {
    title: `capa-sync batch ${batchId}: ${counts.updated} updated, ${counts.waiting} waiting for unlock, ${counts.failed} failed, ${counts.rejected} rejected`,
    lines: [
      `${prepared.inputRows} input rows: ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
      ...(prepared.ignoredColumns.length
        ? [`Ignored columns (not on the allow-list, never written): ${prepared.ignoredColumns.join(', ')}`]
        : []),
      ...notable.slice(0, DIGEST_RECORD_LINES).map(line),
      ...(notable.length > DIGEST_RECORD_LINES
        ? [`... and ${notable.length - DIGEST_RECORD_LINES} more in the report`]
        : []),
    ],
    fields: { kind: 'batch-digest', batchId, inputRows: prepared.inputRows, counts },
  };
}
