// A batch's pages: applyPage bulk-writes a page's unlocked records (sending transient ones again for a few rounds)
// and sets its locked ones aside; handOffPage hands those to their record workflows by signal-with-start.
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { BatchActivities } from '../../contracts/batch-activities';
import { type RowResult, zeroCounts } from '../../contracts/batch-messages';
import {
  type DesiredValues,
  RECORD_WORKFLOW_TYPE,
  recordWorkflowId,
  RecordWorkflowType,
  setDesiredValuesSignal,
} from '../../contracts/record-messages';
import { recordSearchAttributes } from '../../contracts/search-attributes';
import { recordSummary } from '../../contracts/workflow-descriptions';
import type { ValidRow } from '../../sources/validate-row';
import { changeEntries } from '../../store/audit-trail';
import type { HandOff } from '../../store/batch-store';
import { ensureLockWatcher } from '../../temporal/record-workflows';
import type { RecordWriteOutcome } from '../../vault/types';
import { asActivityFailure } from '../activity-failures';
import { classifyPage, settleUpdates } from '../page-decisions';
import { type BatchActivityDeps, inParallel, lockedIn, readPageStates, START_CONCURRENCY } from './deps';

const TRANSIENT_ROUNDS = 3;

/** Whether the page's read of a record found it locked. */
const readLocked = (deps: BatchActivityDeps, state?: string) => state !== undefined && lockedIn(deps)(state);

/** Hands a record to its workflow: signal-with-start, so a waiting one gets the new values and none is doubled. */
async function deferToRecordWorkflow(
  deps: BatchActivityDeps,
  { row, baseline, vaultState, team }: HandOff,
  batchId: string,
  sourceTimestamp: string,
): Promise<string> {
  const workflowId = recordWorkflowId(deps.object, row.id);
  const routing = deps.alerts.team(team);
  const desired: DesiredValues = {
    desired: row.values,
    baseline,
    sourceTimestamp: row.sourceTimestamp ?? sourceTimestamp,
    batchId,
    routing: { team: routing.name, ladder: routing.ladder },
  };
  await deps.temporal.workflow.signalWithStart<RecordWorkflowType, [typeof desired]>(RECORD_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: deps.taskQueue,
    // handOffPage ensured the watcher and notes this read for it; a record read unlocked (Vault refused it all the
    // same) checks at once, by itself.
    args: [
      {
        object: deps.object,
        recordId: row.id,
        options: deps.recordOptions,
        vaultState,
        handedToWatcher: readLocked(deps, vaultState),
        ...desired,
      },
    ],
    signal: setDesiredValuesSignal,
    signalArgs: [desired],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: recordSearchAttributes({
      phase: 'waiting-for-unlock',
      recordId: row.id,
      batchId,
      vaultState,
      team: routing.name,
    }),
    memo: { object: deps.object, fields: Object.keys(row.values) },
    staticSummary: recordSummary(row.id, batchId, row.values),
  });
  return workflowId;
}

/** Bulk-updates rows (the client sends 500 a call, a few calls at once); transient rows go again for a few rounds. */
async function bulkUpdate(deps: BatchActivityDeps, rows: ValidRow[]): Promise<Map<string, RecordWriteOutcome>> {
  const outcomes = new Map<string, RecordWriteOutcome>();
  let pending = rows;
  for (let round = 1; pending.length; round++) {
    const results = await deps.vault.bulkUpdate(
      deps.object,
      pending.map((r) => ({ id: r.id, values: r.values })),
    );
    results.forEach((o) => outcomes.set(o.id, o));
    if (round >= TRANSIENT_ROUNDS) break;
    pending = pending.filter((r) => outcomes.get(r.id)?.status === 'transient');
    if (pending.length) await sleep(1000 * round);
  }
  return outcomes;
}

type PageInput = Parameters<BatchActivities['applyPage']>[0];

/** Reads a page's states, bulk-writes its unlocked records and stores its outcomes with their audit entries. */
async function applyPage(deps: BatchActivityDeps, { batchId, page, sourceTimestamp }: PageInput) {
  return asActivityFailure(async () => {
    const { applied, rows } = await deps.store.batches.page(batchId, page);
    if (applied) return { ...(await deps.store.batches.pageCounts(batchId, page)), waiting: 0 }; // a retry after success
    const { states, teams } = await readPageStates(deps, rows);
    const classes = classifyPage(rows, states, lockedIn(deps));
    const { results, toHandOff, toUpdate, written } = classes;
    const intent = toUpdate.filter((row) => !row.valuesBefore);
    await deps.store.batches.saveIntent(
      batchId,
      intent.map((row) => ({ row: row.row, values: states.get(row.id)!.values })),
    );
    settleUpdates(classes, await bulkUpdate(deps, toUpdate), states);
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
    // A page's outcomes and its audit entries are stored together or not at all. The audit entries go last: the
    // trail is one chain, whose lock the other pages running wait for until this transaction commits.
    const counts = await deps.store.transaction(async (tx) => {
      await tx.batches.saveTeams(
        batchId,
        rows.flatMap((r) => (teams.has(r.id) ? [{ row: r.row, team: teams.get(r.id)! }] : [])),
      );
      const saved = await tx.batches.savePage(batchId, page, results, toHandOff);
      await tx.audit.append(audit, `${batchId}/page-${page}`);
      return saved;
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
}

/** Hands a page's set-aside records to their record workflows and notes them as waiting. */
async function handOffPage(deps: BatchActivityDeps, { batchId, page, sourceTimestamp }: PageInput) {
  const handOffs = await deps.store.batches.handOffs(batchId, page);
  if (handOffs.length)
    await ensureLockWatcher(deps.temporal, {
      object: deps.object,
      taskQueue: deps.controlTaskQueue,
      tickSeconds: deps.recordOptions.tickScheduleSeconds[0],
    });
  const waiting: RowResult[] = [];
  await inParallel(handOffs, START_CONCURRENCY, async (handOff) => {
    const workflowId = await deferToRecordWorkflow(deps, handOff, batchId, sourceTimestamp);
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
    const reads = waiting.map((r) => ({
      recordId: r.recordId!,
      state: r.vaultState,
      ...(readLocked(deps, r.vaultState) ? { told: r.vaultState } : {}),
    }));
    // The rows first: a record workflow settling meanwhile then waits on their lock (see handedOver).
    const saved = await tx.batches.saveHandedOff(batchId, page, waiting);
    await tx.watchers.handedOver(deps.object, reads);
    return saved;
  });
  const counts = { ...zeroCounts(), waiting: handedOff.waiting };
  deps.metrics.rowsProcessed({ waiting: waiting.length });
  deps.logger.info('batch page handed off', { batchId, page, waiting: waiting.length });
  return counts;
}

export function pageActivities(deps: BatchActivityDeps): Pick<BatchActivities, 'applyPage' | 'handOffPage'> {
  return {
    applyPage: (input) => applyPage(deps, input),
    handOffPage: (input) => handOffPage(deps, input),
  };
}
