import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';

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
