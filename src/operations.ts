import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { AppConfig } from './config';
import type { capaBatchWorkflow } from './workflows/batch';
import type { RecordWorkflowResult } from './workflows/record';
import { BATCH_ID_PATTERN, batchWorkflowId, BatchInput } from './contracts/batch-messages';
import {
  cancelUpdate,
  forceUpdate,
  recordWorkflowId,
  RecordStatus,
  statusQuery,
  SyncState,
  RECORD_WORKFLOW_TYPE,
} from './contracts/record-messages';

/** What operators and the CLI do with workflows, in one place. */

export function newBatchId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

/** A batch id that cannot be used: malformed, or taken by an earlier batch (whose state and report it names). */
export class BatchIdRefused extends Error {}

/** Starts a batch under an id used by no earlier batch: a rerun is a new batch, never a replay of an old one's state. */
export async function startBatch(client: Client, config: AppConfig, input: BatchInput & { batchId: string }) {
  if (!BATCH_ID_PATTERN.test(input.batchId))
    throw new BatchIdRefused(
      `invalid batch id ${JSON.stringify(input.batchId)}: use up to 100 letters, digits, '.', '_' or '-'`,
    );
  try {
    return await client.workflow.start<typeof capaBatchWorkflow>('capaBatchWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: batchWorkflowId(config.vault.object, input.batchId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [input],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new BatchIdRefused(
        `batch id ${input.batchId} is already used (capa-sync report ${input.batchId}); choose another`,
      );
    throw err;
  }
}

export interface WaitingRecord {
  workflowId: string;
  recordId: string;
  state: string;
  vaultState?: string;
  batchId?: string;
  startTime: string;
}

/** Record workflows by CapaSyncState, from Temporal visibility (what the Web UI shows). */
export async function listRecords(client: Client, config: AppConfig, state?: SyncState): Promise<WaitingRecord[]> {
  const filters = [
    `WorkflowType = '${RECORD_WORKFLOW_TYPE}'`,
    `WorkflowId STARTS_WITH '${recordWorkflowId(config.vault.object, '')}'`,
  ];
  if (state) filters.push(`CapaSyncState = '${state}'`);
  else filters.push(`ExecutionStatus = 'Running'`);
  const records: WaitingRecord[] = [];
  for await (const wf of client.workflow.list({ query: filters.join(' AND ') })) {
    const sa = wf.searchAttributes as Record<string, string[] | undefined>;
    records.push({
      workflowId: wf.workflowId,
      recordId: sa.CapaRecordId?.[0] ?? wf.workflowId.split(':').pop()!,
      state: sa.CapaSyncState?.[0] ?? 'unknown',
      vaultState: sa.CapaVaultState?.[0],
      batchId: sa.CapaBatchId?.[0],
      startTime: wf.startTime.toISOString(),
    });
  }
  return records;
}

const recordHandle = (client: Client, config: AppConfig, recordId: string) =>
  client.workflow.getHandle(recordWorkflowId(config.vault.object, recordId));

/**
 * The execution status of a record's workflow (RUNNING, COMPLETED...), or undefined where it never existed: the
 * server answers "not found" both for that and for a workflow in no state to answer, and this tells them apart.
 */
const statusOf = (handle: ReturnType<typeof recordHandle>): Promise<string | undefined> =>
  handle.describe().then(
    (d) => d.status.name,
    () => undefined,
  );

export async function recordStatus(client: Client, config: AppConfig, recordId: string): Promise<RecordStatus> {
  const handle = recordHandle(client, config, recordId);
  try {
    return await handle.query(statusQuery);
  } catch (err) {
    // A query can fail as "not found" for a workflow whose first task has not run yet: tell the two apart.
    if (err instanceof WorkflowNotFoundError && (await statusOf(handle)) !== undefined) {
      throw new Error(`record ${recordId}: its workflow has not started running yet, try again in a moment`);
    }
    throw err;
  }
}

export async function decide(
  client: Client,
  config: AppConfig,
  kind: 'force' | 'cancel',
  recordId: string,
  operator: string,
  reason: string,
): Promise<string> {
  const handle = recordHandle(client, config, recordId);
  try {
    return await handle.executeUpdate(kind === 'force' ? forceUpdate : cancelUpdate, { args: [{ operator, reason }] });
  } catch (err) {
    // The server answers "not found" for a workflow that has already ended: say how it ended instead.
    const status = err instanceof WorkflowNotFoundError ? await statusOf(handle) : undefined;
    if (status === undefined || status === 'RUNNING') throw err;
    const ended =
      status === 'COMPLETED' ? ((await handle.result()) as RecordWorkflowResult).state : status.toLowerCase();
    throw new Error(`refused: record ${recordId} is already ${ended}`);
  }
}
