import { Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { LOCK_WATCHER_TYPE, type LockWatcherInput, lockWatcherId, moveWatcherSignal } from '../contracts/lock-watch';
import { recordWorkflowId } from '../contracts/record-messages';
import { recordQuery } from '../contracts/visibility';

// The record workflows and the lock watcher as Temporal sees them: the listing the CLI, a batch and a revert share,
// and the start of an object's watcher. Plain Temporal client calls: the activities and the CLI both use them.

export interface WaitingRecord {
  workflowId: string;
  recordId: string;
  /** The record's phase in capa-sync (the CapaSyncState search attribute). */
  phase: string;
  vaultState?: string;
  batchId?: string;
  team?: string;
  holder?: string;
  startTime: string;
}

/**
 * An object's record workflows as visibility lists them (by phase, running or not, handed over by a batch), with
 * what their search attributes say: the one listing the CLI, the batch, a revert and the lock watcher share.
 */
export async function recordWorkflows(
  client: Client,
  filter: Parameters<typeof recordQuery>[0],
): Promise<WaitingRecord[]> {
  const prefix = recordWorkflowId(filter.object, '');
  const records: WaitingRecord[] = [];
  for await (const wf of client.workflow.list({ query: recordQuery(filter), pageSize: 1000 })) {
    const sa = wf.searchAttributes as Record<string, string[] | undefined>;
    records.push({
      workflowId: wf.workflowId,
      recordId: wf.workflowId.slice(prefix.length),
      phase: sa.CapaSyncState?.[0] ?? 'unknown',
      vaultState: sa.CapaVaultState?.[0],
      batchId: sa.CapaBatchId?.[0],
      team: sa.CapaTeam?.[0],
      holder: sa.CapaLockHolder?.[0],
      startTime: wf.startTime.toISOString(),
    });
  }
  return records;
}

type WatcherOptions = { object: string; taskQueue: string; tickSeconds: number };

/** Starts the object's lock watcher unless it runs (each batch that hands records over): one per object. */
export async function ensureLockWatcher(client: Client, o: WatcherOptions): Promise<void> {
  await client.workflow.start<(input: LockWatcherInput) => Promise<never>>(LOCK_WATCHER_TYPE, {
    taskQueue: o.taskQueue,
    workflowId: lockWatcherId(o.object),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [{ object: o.object, tickSeconds: o.tickSeconds }],
    staticSummary: `Lock watcher of ${o.object}: reads every waiting record's state each ${o.tickSeconds} s`,
  });
}

/**
 * At a worker's start: starts the object's lock watcher on `o.taskQueue` (the control queue) unless it runs, and has
 * one that an earlier release started on `from` (the worker's record workflow queue) move there after its tick. A
 * watcher on any other queue stays: a worker configured with other queues never takes it from the fleet's.
 */
export async function startOrMoveLockWatcher(client: Client, o: WatcherOptions & { from: string }): Promise<void> {
  await ensureLockWatcher(client, o);
  const watcher = client.workflow.getHandle(lockWatcherId(o.object));
  const { status, taskQueue } = await watcher.describe();
  if (status.name === 'RUNNING' && taskQueue === o.from) await watcher.signal(moveWatcherSignal, o.taskQueue);
}
