import { continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BatchActivities } from '../activities/batch-types';
import { BatchInput, BatchProgress, BatchSummary, progressQuery, ROW_OUTCOMES, zeroCounts } from './batch-messages';

/** Each page is one activity, a handful of events: 200 pages a run stays far below 10,000 events. */
const DEFAULT_PAGES_PER_RUN = 200;
/** Pages hold distinct records, so two can run at once: one page's bulk writes overlap the other's hand-offs. */
const PAGES_IN_FLIGHT = 2;

const acts = proxyActivities<BatchActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * The nightly batch: load and validate the export, then page by page read states in bulk, update unlocked
 * records in bulk and hand locked ones to record workflows; finally write the report and the digest alert.
 */
export async function capaBatchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const progress: BatchProgress = input.carried ?? {
    batchId: input.batchId ?? workflowInfo().workflowId.split(':').pop()!,
    // One source time for the whole batch: record workflows keep the values of the newest batch.
    sourceTimestamp: new Date(workflowInfo().startTime).toISOString(),
    phase: 'preparing',
    inputRows: 0,
    pages: 0,
    pagesDone: 0,
    counts: zeroCounts(),
    runs: 0,
  };
  setHandler(progressQuery, () => progress);
  const { batchId } = progress;

  if (progress.phase === 'preparing') {
    const prepared = await acts.prepareBatch({ batchId, source: input.source });
    Object.assign(progress, { phase: 'applying', inputRows: prepared.inputRows, pages: prepared.pages });
    progress.counts.rejected = prepared.rejected;
    progress.counts.superseded = prepared.superseded;
  }
  const firstPageOfRun = progress.pagesDone;
  const inFlight = patched('pages-in-flight') ? PAGES_IN_FLIGHT : 1;
  while (progress.pagesDone < progress.pages) {
    if (
      progress.pagesDone - firstPageOfRun >= (input.pagesPerRun ?? DEFAULT_PAGES_PER_RUN) ||
      workflowInfo().continueAsNewSuggested
    ) {
      progress.runs++;
      return continueAsNew<typeof capaBatchWorkflow>({ ...input, batchId, carried: progress });
    }
    const pages = Array.from(
      { length: Math.min(inFlight, progress.pages - progress.pagesDone) },
      (_, i) => progress.pagesDone + i,
    );
    const results = await Promise.all(
      pages.map((page) => acts.processPage({ batchId, page, sourceTimestamp: progress.sourceTimestamp })),
    );
    for (const counts of results) for (const outcome of ROW_OUTCOMES) progress.counts[outcome] += counts[outcome];
    progress.pagesDone += pages.length;
  }
  progress.phase = 'reporting';
  const summary = await acts.finishBatch({ batchId });
  progress.phase = 'done';
  return summary;
}
