import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';

export const HISTORY_DIR = path.join(__dirname, '../fixtures/histories');

/**
 * Saves a finished workflow's history as a replay fixture when SAVE_HISTORIES=1 (see README, "Changing workflow code").
 * Normal runs leave the committed fixtures alone.
 */
export async function saveHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.SAVE_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  fs.mkdirSync(HISTORY_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORY_DIR, `${name}.json`), JSON.stringify(history));
}

/** The event count of every run of a workflow, following continue-as-new from the first run. */
export async function runLengths(client: Client, workflowId: string): Promise<number[]> {
  const described = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = described.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  const lengths: number[] = [];
  while (runId) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    lengths.push(events.length);
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return lengths;
}
