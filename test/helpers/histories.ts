import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORY_DIR = path.join(__dirname, '../fixtures/histories');

const History = temporal.api.history.v1.History;
// protobufjs's own JSON form (the SDK's historyToJSON trips over two protobufjs copies in the tree).
const JSON_OPTIONS = { longs: String, enums: String, bytes: String, defaults: false };

export function loadHistory(file: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/**
 * Saves a finished workflow's history as a replay fixture when SAVE_HISTORIES=1 (see docs/architecture.md, "Changing workflow code").
 * Normal runs leave the committed fixtures alone, and so does this: a fixture is the history of the code it was saved
 * on, so an existing one is never written over (new code's histories go under new names).
 */
export async function saveHistory(name: string, handle: WorkflowHandle): Promise<void> {
  const file = path.join(HISTORY_DIR, `${name}.json`);
  if (process.env.SAVE_HISTORIES !== '1' || fs.existsSync(file)) return;
  const history = await handle.fetchHistory();
  fs.mkdirSync(HISTORY_DIR, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(History.toObject(History.fromObject(history), JSON_OPTIONS)));
}

/** The events of every run of a workflow, following continue-as-new from the first run. */
export async function runHistories(
  client: Client,
  workflowId: string,
): Promise<temporal.api.history.v1.IHistoryEvent[][]> {
  const described = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = described.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  const runs: temporal.api.history.v1.IHistoryEvent[][] = [];
  while (runId) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.push(events);
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/** The event count of every run of a workflow, following continue-as-new from the first run. */
export async function runLengths(client: Client, workflowId: string): Promise<number[]> {
  return (await runHistories(client, workflowId)).map((events) => events.length);
}
