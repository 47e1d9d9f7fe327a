import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import pLimit from 'p-limit';
import { recordWorkflowId } from '../src/contracts/record-messages';

/** Seconds after the unlock at which the approved records' steps happened: where a mass approval's time went. */
export interface ApprovalTrace {
  /** The watcher's lockChanged signal reached the record. */
  told: Spread;
  /** A worker picked up the record's workflow task that took the signal. */
  taskStarted: Spread;
  /** The record's workflow task scheduled its guardedWrite (the task that took the signal completed). */
  scheduled: Spread;
  /** A worker picked up the write's last attempt. */
  started: Spread;
  /** The write answered. */
  answered: Spread;
  /** Records whose write took more than one attempt, or more than one guardedWrite. */
  retried: number;
  /** Workflow tasks that timed out or failed after the unlock (each is retried), by timeout type or cause. */
  tasksLost: Record<string, number>;
}

const { TimeoutType, WorkflowTaskFailedCause } = temporal.api.enums.v1;

/** Seconds: the first, the median, the 90th percentile and the last. */
export type Spread = [number, number, number, number];

/** Reads the approved records' histories (after their writes): their steps' times after the unlock at `unlockMs`. */
export async function approvalTrace(
  client: Client,
  object: string,
  ids: string[],
  unlockMs: number,
): Promise<ApprovalTrace> {
  const limit = pLimit(20);
  const steps = await Promise.all(
    ids.map((id) => limit(() => recordSteps(client, recordWorkflowId(object, id), unlockMs))),
  );
  const at = (pick: (s: RecordSteps) => number | undefined) =>
    spread(steps.map(pick).flatMap((ms) => (ms === undefined ? [] : [(ms - unlockMs) / 1000])));
  return {
    told: at((s) => s.told),
    taskStarted: at((s) => s.taskStarted),
    scheduled: at((s) => s.scheduled),
    started: at((s) => s.started),
    answered: at((s) => s.answered),
    retried: steps.filter((s) => (s.attempt ?? 1) > 1 || s.writes > 1).length,
    tasksLost: steps
      .flatMap((s) => s.tasksLost)
      .reduce<Record<string, number>>((n, kind) => {
        n[kind] = (n[kind] ?? 0) + 1;
        return n;
      }, {}),
  };
}

interface RecordSteps {
  told?: number;
  taskStarted?: number;
  scheduled?: number;
  started?: number;
  answered?: number;
  attempt?: number;
  /** guardedWrite activities after the signal. */
  writes: number;
  tasksLost: string[];
}

/**
 * The first lockChanged signal after the unlock, the first guardedWrite after it (when scheduled, and when its last
 * attempt started), and when the last guardedWrite answered.
 */
async function recordSteps(client: Client, workflowId: string, unlockMs: number): Promise<RecordSteps> {
  const handle = client.workflow.getHandle(workflowId);
  // Written is not yet answered: the record's history is read once its workflow ends (applied), or after a minute.
  await Promise.race([handle.result().catch(() => undefined), sleep(60_000)]);
  const { events } = await handle.fetchHistory();
  const steps: RecordSteps = { writes: 0, tasksLost: [] };
  const writes = new Set<number>();
  let firstWrite: number | undefined;
  for (const e of events ?? []) {
    const time = tsToMs(e.eventTime);
    if (time < unlockMs) continue; // the record's earlier waits
    if (e.workflowExecutionSignaledEventAttributes?.signalName === 'lockChanged') steps.told ??= time;
    else if (e.workflowTaskTimedOutEventAttributes)
      steps.tasksLost.push(`timed out ${TimeoutType[e.workflowTaskTimedOutEventAttributes.timeoutType ?? 0]}`);
    else if (e.workflowTaskFailedEventAttributes)
      steps.tasksLost.push(`failed ${WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes.cause ?? 0]}`);
    else if (steps.told && e.workflowTaskStartedEventAttributes) steps.taskStarted ??= time;
    else if (steps.told && e.activityTaskScheduledEventAttributes?.activityType?.name === 'guardedWrite') {
      steps.writes++;
      writes.add(Number(e.eventId));
      firstWrite ??= Number(e.eventId);
      steps.scheduled ??= time;
    } else if (firstWrite && Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === firstWrite) {
      steps.started = time;
      steps.attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
    } else if (writes.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId))) steps.answered = time;
  }
  return steps;
}

function spread(seconds: number[]): Spread {
  const sorted = [...seconds].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return [q(0), q(0.5), q(0.9), sorted[sorted.length - 1] ?? NaN].map((s) => Math.round(s * 10) / 10) as Spread;
}
