import {
  ActivityFailure,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchActivities } from '../contracts/batch-activities';
import { HEARTBEAT_TIMEOUT_MS } from '../contracts/activity-timeouts';
import {
  BatchInput,
  BatchProgress,
  BatchSummary,
  OutcomeCounts,
  progressQuery,
  ROW_OUTCOMES,
  zeroCounts,
} from '../contracts/batch-messages';

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
/** Reading the source: a bad source fails at once (non-retryable); an unreachable URL is tried for about 2 minutes. */
const source = proxyActivities<Pick<BatchActivities, 'prepareBatch'>>({
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
 * The nightly batch: load and validate the export, then page by page read states in bulk, update unlocked
 * records in bulk and hand locked ones to record workflows; finally write the report and the digest alert.
 */
export async function capaBatchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const progress: BatchProgress = input.carried ?? {
    batchId: input.batchId ?? batchIdOfSchedule(),
    // One source time for the whole batch: record workflows keep the values of the newest batch.
    sourceTimestamp: new Date(workflowInfo().startTime).toISOString(),
    phase: 'preparing',
    inputRows: 0,
    pages: 0,
    pagesDone: 0,
    pagesHandedOff: 0,
    counts: zeroCounts(),
    runs: 0,
  };
  setHandler(progressQuery, () => progress);
  const { batchId } = progress;
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
    const prepared = await source.prepareBatch({ batchId, source: input.source }).catch(async (err) => {
      if (err instanceof ActivityFailure) {
        const reason = err.cause?.message ?? err.message;
        await acts.alertBatchFailed({ batchId, source: input.source, reason });
      }
      throw err;
    });
    Object.assign(progress, { phase: 'applying', inputRows: prepared.inputRows, pages: prepared.pages });
    progress.counts.rejected = prepared.rejected;
    progress.counts.superseded = prepared.superseded;
    publish();
  }
  const firstActivityOfRun = progress.pagesDone + progress.pagesHandedOff;
  /** Runs an activity for each page not yet done, two at a time, continuing as new when the run has done enough. */
  async function eachPage(
    cursor: 'pagesDone' | 'pagesHandedOff',
    work: (page: number) => Promise<OutcomeCounts>,
  ): Promise<void> {
    while (progress[cursor] < progress.pages) {
      const doneInRun = progress.pagesDone + progress.pagesHandedOff - firstActivityOfRun;
      if (doneInRun >= (input.pagesPerRun ?? DEFAULT_PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
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

  // Every unlocked record is written first; locked ones get their workflows afterwards (that is slower work).
  const of = (page: number) => `page ${page + 1} of ${progress.pages}`;
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
  progress.phase = 'reporting';
  publish();
  const summary = await acts.finishBatch({ batchId });
  progress.phase = 'done';
  publish();
  return summary;
}
