import { tsToMs } from '@temporalio/common/lib/time';
import { startBatch } from '../src/cli/operations';
import { onTaskQueue } from '../test/helpers/config';
import { sampleRecordId } from '../src/simulator/seed';
import { batchWorkflowId } from '../src/contracts/batch-messages';
import { exportFile, Harness, LOCKED, MeasuredProcess, startRate, UNLOCKED } from './harness';
import { CpuSplit, cpuSince, sampleCpu } from './cpu-time';
import { workflowResult } from '../src/temporal/workflow-result';

export interface ScaleFigures {
  rows: number;
  seconds: number;
  peakRssMb: number;
  largestHistory: number;
  recordWorkflows: number;
  startsPerSecond: number;
  /** Where the machine's time went during the batch. */
  cpu: CpuSplit;
  /** Each activity type's time, scheduled to completed, summed over the batch's runs (pages overlap). */
  activitySeconds: Record<string, number>;
}

/**
 * One batch of `rows` rows, 5% locked, on a capa-sync worker process of its own: its time, the worker's peak
 * memory, the largest history of the batch's runs, and how fast the locked rows' record workflows were started.
 */
export async function scaleRun(h: Harness, rows: number): Promise<ScaleFigures> {
  const taskQueue = `bench-scale-${rows}`;
  // The records wait an hour between ticks, so that the run measures the batch, not their polling. The batch changes
  // every row it can: the approval gate's default would hold a million rows for a person's decision.
  const worker = MeasuredProcess.capaWorker(h, taskQueue, {
    CAPA_TICK_SECONDS: '3600',
    CAPA_GATE_MAX_CHANGED_RECORDS: String(rows),
  });
  try {
    for (let i = 0; i < rows; i++)
      h.sim.store.records.get(sampleRecordId(i))!.state__v = i % 20 === 0 ? LOCKED : UNLOCKED;
    const config = onTaskQueue(h.config, taskQueue);
    const file = exportFile(0, rows, rows);
    const start = Date.now();
    const cpuBefore = sampleCpu(worker.child.pid!);
    const batchId = `bench-scale-${rows}`;
    const summary = await workflowResult(await startBatch(h.client, config, { source: file, batchId }));
    const seconds = (Date.now() - start) / 1000;
    const cpu = cpuSince(cpuBefore, worker.child.pid!);
    const accounted = Object.values(summary.counts).reduce((a, b) => a + b, 0);
    if (accounted !== rows) throw new Error(`bench: ${accounted} of ${rows} rows accounted for`);
    const records = `TaskQueue = '${taskQueue}' AND WorkflowType = 'capaRecordWorkflow'`;
    const runs = await batchRuns(h, batchWorkflowId('capa__c', batchId));
    return {
      rows,
      seconds,
      peakRssMb: worker.peakRssMb(),
      ...runs,
      recordWorkflows: (await h.client.workflow.count(records)).count,
      startsPerSecond: await startRate(h.client, records),
      cpu,
    };
  } finally {
    // Its record workflows wait an hour between ticks: they cost the dev server nothing until the bench tears it
    // down (terminating 50,000 of them took the dev server 13 minutes).
    await worker.stop();
  }
}

/** The most events any run of a workflow (through its continue-as-new chain) has, and its activities' times. */
async function batchRuns(h: Harness, workflowId: string) {
  let runId = (await h.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId;
  let largestHistory = 0;
  const activitySeconds: Record<string, number> = {};
  while (runId) {
    const events = (await h.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    largestHistory = Math.max(largestHistory, events.length);
    const scheduled = new Map<string, { type: string; at: number }>();
    for (const e of events) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) scheduled.set(String(e.eventId), { type, at: tsToMs(e.eventTime) });
      const done = e.activityTaskCompletedEventAttributes;
      const from = done && scheduled.get(String(done.scheduledEventId));
      if (from) activitySeconds[from.type] = (activitySeconds[from.type] ?? 0) + (tsToMs(e.eventTime) - from.at) / 1000;
    }
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { largestHistory, activitySeconds };
}
