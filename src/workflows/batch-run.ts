import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CapaBatchState } from '../contracts/search-attributes';
import type { BatchActivities } from '../contracts/batch-activities';
import { activityOptions } from '../contracts/activity-timeouts';
import {
  BatchDecision,
  BatchInput,
  BatchProgress,
  BatchSummary,
  OutcomeCounts,
  ROW_OUTCOMES,
  zeroCounts,
} from '../contracts/batch-messages';
import { operatorProblem, trimmedDecision } from '../contracts/decisions';
import { runPages } from './pages';

/** From this patch on, a run lets its handlers (an approval's Update) finish before it continues as new. */
export const HANDLERS_FINISH_BEFORE_NEW_RUN = 'handlers-finish-before-new-run';

/** Each page is one activity, a handful of events: 200 pages a run stays far below 10,000 events. */
const DEFAULT_PAGES_PER_RUN = 200;

const PAGE_ACTIVITY_OPTIONS = activityOptions({ timeout: '30 minutes', maxInterval: '5 minutes', maxAttempts: 10 });
const acts = proxyActivities<BatchActivities>(PAGE_ACTIVITY_OPTIONS);
/** The same activities, each call with the one-line summary the Web UI shows for it. */
const summarised = (summary: string) => proxyActivities<BatchActivities>({ ...PAGE_ACTIVITY_OPTIONS, summary });
/**
 * Reading the source (or, for a revert, the audit trail): a bad source fails at once (non-retryable); an unreachable
 * URL is tried for about 2 minutes.
 */
const sourceReading = proxyActivities<Pick<BatchActivities, 'prepareBatch' | 'beginRevert'>>(
  activityOptions({ timeout: '30 minutes', maxInterval: '1 minute', maxAttempts: 5 }),
);

/**
 * A scheduled run's batch id: what follows `capa-batch:<object>:` in its workflow id, where the schedule appended
 * the start time ("nightly-2026-11-24T02:00:00Z" becomes "nightly-2026-11-24T020000Z").
 */
const batchIdOfSchedule = () => workflowInfo().workflowId.split(':').slice(2).join('');

type PageCursor = 'pagesPlanned' | 'pagesDone' | 'pagesHandedOff';

/**
 * One batch's run: its progress (carried over continue-as-new) and its steps, in the order the workflow takes them.
 * Workflow code: deterministic, Temporal calls only through the proxies above.
 */
export class BatchRun {
  readonly progress: BatchProgress;
  /** An approval or rejection is being recorded: a second one is refused. */
  private deciding = false;
  /** Pages done by the runs before this one: a run continues as new once it has done enough of its own. */
  private readonly pagesBeforeRun: number;

  constructor(private readonly input: BatchInput) {
    this.progress = input.carried ?? {
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
    this.pagesBeforeRun = this.pagesTouched();
    this.publish();
  }

  private get batchId(): string {
    return this.progress.batchId;
  }

  /** Why an approval or rejection is refused (an Update's validator throws it). */
  validateDecision(kind: 'approve' | 'reject', d: BatchDecision): void {
    const { progress, input, deciding } = this;
    const problem =
      progress.phase !== 'awaiting-approval' || deciding
        ? `batch ${this.batchId} is not waiting for approval (it is ${deciding ? 'decided' : progress.phase})`
        : operatorProblem(d);
    if (problem) throw new Error(problem);
    const approver = d.origin && `${d.origin.account}@${d.origin.host}`;
    if (kind === 'approve' && input.startedBy && approver === input.startedBy)
      throw new Error(`the approver must not be the one who started the batch (${input.startedBy})`);
  }

  /** An approval or rejection, audited; answers what it does. */
  async decide(kind: 'approve' | 'reject', d: BatchDecision, via: 'update' | 'time-out' = 'update') {
    this.deciding = true;
    const outcome = kind === 'approve' ? 'approved: the batch writes now' : 'rejected: nothing is written';
    const { operator, reason } = trimmedDecision(d);
    const auditAnchor = await acts.recordBatchDecision({
      ...{ batchId: this.batchId, decision: kind, operator, reason, origin: { via, ...d.origin }, outcome },
    });
    this.progress.approval!.decision = { ...d, operator, reason, kind, at: new Date().toISOString(), auditAnchor };
    upsertSearchAttributes([{ key: CapaBatchState, value: kind === 'approve' ? 'approved' : 'rejected' }]);
    return outcome;
  }

  /** Reads and validates the source (a revert first stops the reverted batch's waiting writes). */
  async prepare(): Promise<void> {
    const { batchId, input, progress } = this;
    const { revert } = input;
    const prepare = async () => {
      // A revert first stops the reverted batch's waiting writes, so that the trail it reads is final.
      if (revert) await sourceReading.beginRevert({ batchId, revert });
      return sourceReading.prepareBatch({ batchId, source: input.source, revert });
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
    this.publish();
  }

  /** Reads every page for the gate; where it finds the batch unusual, waits for a person's decision (or its time-out). */
  async planAndGate(): Promise<void> {
    const { batchId, progress } = this;
    await this.eachPage('pagesPlanned', (page) =>
      summarised(`${this.of(page)}: read states for the approval gate`)
        .planPage({ batchId, page })
        .then(() => zeroCounts()),
    );
    const gate = await acts.checkGate({ batchId });
    if (gate.findings.length) {
      progress.approval = { findings: gate.findings };
      progress.phase = 'awaiting-approval';
      upsertSearchAttributes([{ key: CapaBatchState, value: 'awaiting-approval' }]);
      this.publish();
      const hours = Math.round((gate.timeoutSeconds / 3600) * 10) / 10;
      const timeout = { operator: 'capa-sync', reason: `nobody approved or rejected it within ${hours} h` };
      if (!(await condition(() => !!progress.approval!.decision, gate.timeoutSeconds * 1000)) && !this.deciding)
        await this.decide('reject', timeout, 'time-out');
      await condition(() => !!progress.approval!.decision);
    }
    progress.phase = 'applying';
  }

  /** The rejection of the batch, where a person (or the time-out) rejected it. */
  get rejection(): BatchDecision | undefined {
    const decision = this.progress.approval?.decision;
    return decision?.kind === 'reject' ? decision : undefined;
  }

  async reject(rejected: BatchDecision): Promise<void> {
    const reason = `batch rejected by ${rejected.operator}: ${rejected.reason}`;
    this.progress.counts = await acts.rejectBatch({ batchId: this.batchId, reason });
  }

  async applyPages(): Promise<void> {
    const { batchId, progress } = this;
    await this.eachPage('pagesDone', (page) =>
      summarised(`${this.of(page)}: read states, write the unlocked records`).applyPage({
        batchId,
        page,
        sourceTimestamp: progress.sourceTimestamp,
      }),
    );
  }

  async handOffPages(): Promise<void> {
    const { batchId, progress } = this;
    progress.phase = 'handing-off';
    await this.eachPage('pagesHandedOff', (page) =>
      summarised(`${this.of(page)}: hand the locked records to their workflows`).handOffPage({
        batchId,
        page,
        sourceTimestamp: progress.sourceTimestamp,
      }),
    );
  }

  /** The report and the digest alert: the batch's summary. */
  async finish(): Promise<BatchSummary> {
    this.progress.phase = 'reporting';
    this.publish();
    const summary = await acts.finishBatch({ batchId: this.batchId });
    this.progress.phase = 'done';
    this.publish();
    return summary;
  }

  /** Runs an activity for each page not yet done, a few at a time, continuing as new when the run has done enough. */
  private async eachPage(cursor: PageCursor, work: (page: number) => Promise<OutcomeCounts>): Promise<void> {
    const { progress, input } = this;
    await runPages(progress[cursor], progress.pages, work, {
      newRun: {
        due: () =>
          this.pagesTouched() - this.pagesBeforeRun >= (input.pagesPerRun ?? DEFAULT_PAGES_PER_RUN) ||
          workflowInfo().continueAsNewSuggested,
        begin: async () => {
          if (patched(HANDLERS_FINISH_BEFORE_NEW_RUN)) await condition(allHandlersFinished);
          progress.runs++;
          return continueAsNew<(input: BatchInput) => Promise<BatchSummary>>({
            ...input,
            batchId: this.batchId,
            carried: progress,
          });
        },
      },
      done: (results) => {
        for (const counts of results) for (const outcome of ROW_OUTCOMES) progress.counts[outcome] += counts[outcome];
        progress[cursor] += results.length;
        this.publish();
      },
    });
  }

  /** Pages planned, applied and handed off so far, over every run. */
  private pagesTouched(): number {
    const { pagesPlanned, pagesDone, pagesHandedOff } = this.progress;
    return pagesPlanned + pagesDone + pagesHandedOff;
  }

  private of(page: number): string {
    return `page ${page + 1} of ${this.progress.pages}`;
  }

  /** What the Web UI shows of the batch. */
  private publish(): void {
    const p = this.progress;
    setCurrentDetails(
      `**${p.phase}** · ${p.inputRows} rows in ${p.pages} pages, ` +
        `${p.pagesDone} applied, ${p.pagesHandedOff} handed off · ` +
        ROW_OUTCOMES.filter((o) => p.counts[o])
          .map((o) => `${p.counts[o]} ${o}`)
          .join(', '),
    );
  }
}
