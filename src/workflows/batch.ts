import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CapaBatchState } from '../contracts/search-attributes';
import type { BatchActivities } from '../contracts/batch-activities';
import { HEARTBEAT_TIMEOUT_MS } from '../contracts/activity-timeouts';
import {
  approveUpdate,
  BatchDecision,
  BatchInput,
  BatchProgress,
  rejectUpdate,
  BatchSummary,
  OutcomeCounts,
  progressQuery,
  ROW_OUTCOMES,
  zeroCounts,
} from '../contracts/batch-messages';

/** From this patch on, a run lets its handlers (an approval's Update) finish before it continues as new. */
export const HANDLERS_FINISH_BEFORE_NEW_RUN = 'handlers-finish-before-new-run';

/** Each page is one activity, a handful of events: 200 pages a run stays far below 10,000 events. */
const DEFAULT_PAGES_PER_RUN = 200;
/** Pages hold distinct records, so two can run at once. */
const PAGES_IN_FLIGHT = 2;

const PAGE_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
} as const;
const acts = proxyActivities<BatchActivities>(PAGE_ACTIVITY_OPTIONS);
/** The same activities, each call with the one-line summary the Web UI shows for it. */
const summarised = (summary: string) => proxyActivities<BatchActivities>({ ...PAGE_ACTIVITY_OPTIONS, summary });
/**
 * Reading the source (or, for a revert, the audit trail): a bad source fails at once (non-retryable); an unreachable
 * URL is tried for about 2 minutes.
 */
const source = proxyActivities<Pick<BatchActivities, 'prepareBatch' | 'beginRevert'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
/**
 * A scheduled run's batch id: what follows `capa-batch:<object>:` in its workflow id, where the schedule appended
 * the start time ("nightly-2026-11-24T02:00:00Z" becomes "nightly-2026-11-24T020000Z").
 */
const batchIdOfSchedule = () => workflowInfo().workflowId.split(':').slice(2).join('');

/**
 * The nightly batch (or a revert of one): load and validate the export; read every record's state in bulk and hold an unusual batch
 * for a person's approval (the gate); then page by page read states again, update unlocked records in bulk and hand
 * locked ones to record workflows; finally write the report and the digest alert.
 */
export async function capaBatchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const progress: BatchProgress = input.carried ?? {
    batchId: input.batchId ?? batchIdOfSchedule(),
    // One source time for the whole batch: record workflows keep the values of the newest batch.
    sourceTimestamp: new Date(workflowInfo().startTime).toISOString(),
    phase: 'preparing',
    inputRows: 0,
    pages: 0,
    pagesPlanned: 0,
    pagesDone: 0,
    pagesHandedOff: 0,
    counts: zeroCounts(),
    runs: 0,
  };
  setHandler(progressQuery, () => progress);
  const { batchId } = progress;
  let deciding = false;
  /** Why an approval or rejection is refused (an Update's validator). */
  const decisionProblem = (kind: 'approve' | 'reject', d: BatchDecision): string | undefined => {
    if (progress.phase !== 'awaiting-approval' || deciding)
      return `batch ${batchId} is not waiting for approval (it is ${deciding ? 'decided' : progress.phase})`;
    if (!d || typeof d.operator !== 'string' || !d.operator.trim()) return 'operator is required';
    if (typeof d.reason !== 'string' || !d.reason.trim()) return 'reason is required';
    const approver = d.origin && `${d.origin.account}@${d.origin.host}`;
    if (kind === 'approve' && input.startedBy && approver === input.startedBy)
      return `the approver must not be the one who started the batch (${input.startedBy})`;
    return undefined;
  };
  const decide = async (kind: 'approve' | 'reject', d: BatchDecision, via: 'update' | 'time-out' = 'update') => {
    deciding = true;
    const outcome = kind === 'approve' ? 'approved: the batch writes now' : 'rejected: nothing is written';
    const [operator, reason] = [d.operator.trim(), d.reason.trim()];
    const auditAnchor = await acts.recordBatchDecision({
      ...{ batchId, decision: kind, operator, reason, origin: { via, ...d.origin }, outcome },
    });
    progress.approval!.decision = { ...d, operator, reason, kind, at: new Date().toISOString(), auditAnchor };
    upsertSearchAttributes([{ key: CapaBatchState, value: kind === 'approve' ? 'approved' : 'rejected' }]);
    return outcome;
  };
  for (const [update, kind] of [
    [approveUpdate, 'approve'],
    [rejectUpdate, 'reject'],
  ] as const)
    setHandler(update, (d) => decide(kind, d), {
      validator: (d) => {
        const problem = decisionProblem(kind, d);
        if (problem) throw new Error(problem);
      },
    });
  const publish = () =>
    setCurrentDetails(
      `**${progress.phase}** · ${progress.inputRows} rows in ${progress.pages} pages, ` +
        `${progress.pagesDone} applied, ${progress.pagesHandedOff} handed off · ` +
        ROW_OUTCOMES.filter((o) => progress.counts[o])
          .map((o) => `${progress.counts[o]} ${o}`)
          .join(', '),
    );
  publish();

  if (progress.phase === 'preparing') {
    const { revert } = input;
    const prepare = async () => {
      // A revert first stops the reverted batch's waiting writes, so that the trail it reads is final.
      if (revert) await source.beginRevert({ batchId, revert });
      return source.prepareBatch({ batchId, source: input.source, revert });
    };
    const prepared = await prepare().catch(async (err) => {
      if (err instanceof ActivityFailure) {
        const reason = err.cause?.message ?? err.message;
        await acts.alertBatchFailed({ batchId, source: input.source, reason });
      }
      throw err;
    });
    Object.assign(progress, { phase: 'planning', inputRows: prepared.inputRows, pages: prepared.pages });
    progress.counts.rejected = prepared.rejected;
    progress.counts.superseded = prepared.superseded;
    publish();
  }
  const firstActivityOfRun = progress.pagesPlanned + progress.pagesDone + progress.pagesHandedOff;
  /** Runs an activity for each page not yet done, two at a time, continuing as new when the run has done enough. */
  async function eachPage(
    cursor: 'pagesPlanned' | 'pagesDone' | 'pagesHandedOff',
    work: (page: number) => Promise<OutcomeCounts>,
  ): Promise<void> {
    while (progress[cursor] < progress.pages) {
      const doneInRun = progress.pagesPlanned + progress.pagesDone + progress.pagesHandedOff - firstActivityOfRun;
      if (doneInRun >= (input.pagesPerRun ?? DEFAULT_PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
        if (patched(HANDLERS_FINISH_BEFORE_NEW_RUN)) await condition(allHandlersFinished);
        progress.runs++;
        await continueAsNew<typeof capaBatchWorkflow>({ ...input, batchId, carried: progress });
      }
      const pages = Array.from(
        { length: Math.min(PAGES_IN_FLIGHT, progress.pages - progress[cursor]) },
        (_, i) => progress[cursor] + i,
      );
      for (const counts of await Promise.all(pages.map(work))) {
        for (const outcome of ROW_OUTCOMES) progress.counts[outcome] += counts[outcome];
      }
      progress[cursor] += pages.length;
      publish();
    }
  }

  const of = (page: number) => `page ${page + 1} of ${progress.pages}`;
  if (progress.phase === 'planning') {
    await eachPage('pagesPlanned', (page) =>
      summarised(`${of(page)}: read states for the approval gate`)
        .planPage({ batchId, page })
        .then(() => zeroCounts()),
    );
    const gate = await acts.checkGate({ batchId });
    if (gate.findings.length) {
      progress.approval = { findings: gate.findings };
      progress.phase = 'awaiting-approval';
      upsertSearchAttributes([{ key: CapaBatchState, value: 'awaiting-approval' }]);
      publish();
      const hours = Math.round((gate.timeoutSeconds / 3600) * 10) / 10;
      const timeout = { operator: 'capa-sync', reason: `nobody approved or rejected it within ${hours} h` };
      if (!(await condition(() => !!progress.approval!.decision, gate.timeoutSeconds * 1000)) && !deciding)
        await decide('reject', timeout, 'time-out');
      await condition(() => !!progress.approval!.decision);
    }
    progress.phase = 'applying';
  }
  const rejected = progress.approval?.decision?.kind === 'reject' ? progress.approval.decision : undefined;
  if (rejected) {
    const reason = `batch rejected by ${rejected.operator}: ${rejected.reason}`;
    progress.counts = await acts.rejectBatch({ batchId, reason });
  } else {
    // Every unlocked record is written first; locked ones get their workflows afterwards (that is slower work).
    await eachPage('pagesDone', (page) =>
      summarised(`${of(page)}: read states, write the unlocked records`).applyPage({
        batchId,
        page,
        sourceTimestamp: progress.sourceTimestamp,
      }),
    );
    progress.phase = 'handing-off';
    await eachPage('pagesHandedOff', (page) =>
      summarised(`${of(page)}: hand the locked records to their workflows`).handOffPage({
        batchId,
        page,
        sourceTimestamp: progress.sourceTimestamp,
      }),
    );
  }
  progress.phase = 'reporting';
  publish();
  const summary = await acts.finishBatch({ batchId });
  progress.phase = 'done';
  publish();
  return summary;
}
