import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import type { PlanSummary } from '../contracts/plan-messages';
import { BatchSummary, progressQuery, ROW_OUTCOMES } from '../contracts/batch-messages';
import { workflowResult } from '../temporal/workflow-result';

/** What the command line and the demo print about batches: tables, the Web UI link, a progress bar. */

export function table<T extends object>(rows: T[], columns: Array<keyof T & string>): string {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => String(r[c] ?? ''))))].join('\n');
}

export function summaryTable(summary: BatchSummary): string {
  const rows: Array<{ outcome: string; rows: number }> = ROW_OUTCOMES.map((o) => ({
    outcome: o,
    rows: summary.counts[o],
  }));
  rows.push({ outcome: 'total', rows: summary.inputRows });
  return [
    `Batch ${summary.batchId}`,
    table(rows, ['outcome', 'rows']),
    ...(summary.ignoredColumns.length ? [`Ignored columns (never written): ${summary.ignoredColumns.join(', ')}`] : []),
    'Reports:',
    ...Object.values(summary.reports).map((f) => `  ${f}`),
  ].join('\n');
}

export function planTable(plan: PlanSummary): string {
  const rows = Object.entries(plan.counts).map(([action, n]) => ({ 'the batch would': action, rows: n }));
  rows.push({ 'the batch would': 'total', rows: plan.inputRows });
  return [
    `Plan ${plan.planId} (nothing written to Vault)`,
    table(rows, ['the batch would', 'rows']),
    'Reports:',
    ...Object.values(plan.reports).map((f) => `  ${f}`),
  ].join('\n');
}

export function waitingRecordsUrl(config: AppConfig): string {
  const query = encodeURIComponent(`CapaSyncState="waiting-for-unlock"`);
  return `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows?query=${query}`;
}

/**
 * Waits for a batch, drawing a progress bar on a terminal, and returns its summary; an aborted `signal` ends the wait
 * and cancels its calls.
 */
export async function followBatch(
  client: Client,
  workflowId: string,
  draw: boolean,
  signal?: AbortSignal,
): Promise<BatchSummary> {
  if (signal) return client.withAbortSignal(signal, () => follow(client, workflowId, draw, signal));
  return follow(client, workflowId, draw);
}

async function follow(client: Client, workflowId: string, draw: boolean, signal?: AbortSignal): Promise<BatchSummary> {
  const handle = client.workflow.getHandle(workflowId);
  let done = false;
  const result = workflowResult(handle, undefined, signal).finally(() => (done = true));
  while (draw && !done && !signal?.aborted) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p) {
      const pagesDone = p.phase === 'handing-off' ? p.pagesHandedOff : p.pagesDone;
      const share = p.pages ? pagesDone / p.pages : 0;
      const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
      process.stdout.write(
        `\r[${bar}] ${p.phase.padEnd(11)} page ${pagesDone}/${p.pages}  ${p.counts.updated} updated, ${p.counts.waiting} waiting`,
      );
    }
    await Promise.race([result.catch(() => undefined), sleep(300)]);
  }
  if (draw) process.stdout.write('\n');
  return (await result) as BatchSummary;
}
