import { Client, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { AppConfig } from '../config';
import { BATCH_WORKFLOW_TYPE, batchWorkflowId } from '../contracts/batch-messages';
import { batchSummary } from '../contracts/workflow-descriptions';

export interface NightlySchedule {
  scheduleId: string;
  /** Cron in the given time zone, e.g. "0 2 * * *" for 02:00 every night. */
  cron: string;
  timezone: string;
  source: string;
  /** Missed runs (server or worker down) are caught up within this window, then skipped. */
  catchupWindow: Duration;
}

export const DEFAULT_SCHEDULE_ID = 'capa-sync-nightly';

/** Creates the nightly schedule, or brings an existing one up to date: calling it twice leaves one schedule. */
export async function upsertSchedule(
  client: Client,
  config: AppConfig,
  s: NightlySchedule,
): Promise<'created' | 'updated'> {
  const spec = { cronExpressions: [s.cron], timezone: s.timezone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: BATCH_WORKFLOW_TYPE,
    // The schedule appends the start time to this id, which becomes the batch id.
    workflowId: batchWorkflowId(config.vault.object, 'nightly'),
    taskQueue: config.temporal.controlTaskQueue,
    args: [{ source: s.source }],
    staticSummary: batchSummary(`${s.scheduleId} (nightly)`, s.source),
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.catchupWindow };
  const handle = client.schedule.getHandle(s.scheduleId);
  try {
    await handle.update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, ...policies } }));
    return 'updated';
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  await client.schedule.create({ scheduleId: s.scheduleId, spec, action, policies });
  return 'created';
}
