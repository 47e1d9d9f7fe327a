// reports/: a batch's report files (CSV, JSON) written from the store. Imports the layers below it.

import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { BatchRecord, BatchStore } from '../store/batch-store';
import { FORMULA } from '../sources/validate-row';
import { LineWriter } from '../store/line-writer';
import { BatchReportFiles, BatchSummary, ROW_OUTCOMES, RowOutcome, RowResult } from '../contracts/batch-messages';

/** The rows report.json lists that went otherwise than planned (it counts them all). */
const PLAN_DIFFERENCES_SHOWN = 100;

const COLUMNS: (keyof RowResult)[] = [
  'row',
  'recordId',
  'outcome',
  'workflowId',
  'vaultState',
  'field',
  'errorType',
  'message',
  'resolution',
];

/** One CSV cell: quoted per RFC 4180, and a leading formula character defused for spreadsheet users. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Where a batch's report lives, in the folder given. */
export function reportFiles(dir: string): BatchReportFiles {
  return {
    json: path.join(dir, 'report.json'),
    successCsv: path.join(dir, 'success.csv'),
    waitingCsv: path.join(dir, 'waiting.csv'),
    failureCsv: path.join(dir, 'failure.csv'),
  };
}

/** The CSV logs, like Vault Loader's: which outcomes each holds. */
const CSV_OUTCOMES: [keyof BatchReportFiles, RowOutcome[]][] = [
  ['successCsv', ['updated', 'unchanged']],
  ['waitingCsv', ['waiting']],
  ['failureCsv', ['failed', 'rejected', 'superseded']],
];

async function writeCsv(file: string, rows: AsyncIterable<RowResult>): Promise<void> {
  const stream = fs.createWriteStream(file);
  const out = new LineWriter(stream);
  await out.write(COLUMNS.join(',') + '\r');
  for await (const r of rows) await out.write(COLUMNS.map((c) => csvCell(r[c])).join(',') + '\r');
  await out.flush();
  stream.end();
  await finished(stream);
}

/**
 * Writes a batch's report from the store into `dir`: report.json (the summary and counts) and the success, waiting
 * and failure CSVs (every row, in row order), and returns the batch's summary. Refuses a report whose rows do not add
 * up to the input.
 */
export async function writeBatchReport(store: BatchStore, batch: BatchRecord, dir: string): Promise<BatchSummary> {
  const { counts, pending } = await store.counts(batch.batchId);
  const total = ROW_OUTCOMES.reduce((sum, o) => sum + counts[o], 0);
  if (pending || total !== batch.inputRows)
    throw new Error(
      `batch ${batch.batchId}: ${total} rows have an outcome and ${pending} none, but the input had ${batch.inputRows} rows`,
    );
  await fs.promises.mkdir(dir, { recursive: true });
  const files = reportFiles(dir);
  for (const [file, outcomes] of CSV_OUTCOMES) await writeCsv(files[file], store.results(batch.batchId, outcomes));
  const { batchId, source, inputRows, ignoredColumns, createdAt, auditAnchor } = batch;
  const summary = {
    batchId,
    source,
    inputRows,
    ignoredColumns,
    counts,
    createdAt,
    generatedAt: new Date().toISOString(),
    // Where the write found Vault otherwise than the gate's read (and an approver's plan) had it.
    differencesFromPlan: await store.planDifferences(batchId, PLAN_DIFFERENCES_SHOWN),
    ...(auditAnchor ? { auditAnchor } : {}),
  };
  await fs.promises.writeFile(files.json, JSON.stringify(summary, null, 1));
  return { batchId, inputRows, ignoredColumns, counts, reports: files, ...(auditAnchor ? { auditAnchor } : {}) };
}
