import { proxyActivities, sleep } from '@temporalio/workflow';
import type { NaiveActivities } from './activities';

const { readRecord, writeRecord } = proxyActivities<NaiveActivities>({ startToCloseTimeout: '1 minute' });

/**
 * The naive design the benchmark compares capa-sync with: one workflow per input row, which reads its own record,
 * sleeps on its own timer while the record is locked, then writes it alone.
 */
export async function naiveRecordWorkflow(input: {
  recordId: string;
  values: Record<string, string | number>;
  tickMs: number;
}) {
  while ((await readRecord(input.recordId)).locked) await sleep(input.tickMs);
  await writeRecord(input.recordId, input.values);
}
