import fs from 'node:fs';
import path from 'node:path';
import type { RowResult } from '../activities/batch-types';
import { BatchReportFiles, OutcomeCounts, ROW_OUTCOMES, zeroCounts } from '../workflows/batch-messages';

const COLUMNS: (keyof RowResult)[] = [
  'row',
  'recordId',
  'outcome',
  'workflowId',
  'vaultState',
  'field',
  'errorType',
  'message',
];

/** One CSV cell: quoted per RFC 4180, and a leading formula character defused for spreadsheet users. */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csv = (rows: RowResult[]) =>
  [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';

/** Where a batch's report lives, in its folder. */
export function reportFiles(dir: string): BatchReportFiles {
  return {
    json: path.join(dir, 'report.json'),
    successCsv: path.join(dir, 'success.csv'),
    waitingCsv: path.join(dir, 'waiting.csv'),
    failureCsv: path.join(dir, 'failure.csv'),
  };
}

export function countOutcomes(rows: RowResult[]): OutcomeCounts {
  const counts = zeroCounts();
  for (const r of rows) counts[r.outcome]++;
  return counts;
}

/**
 * Writes the batch report as JSON (summary + every row) and CSV logs like Vault Loader's: success (updated,
 * unchanged), waiting (with the record workflow id) and failure (failed, rejected, superseded).
 * Refuses to write a report whose rows do not add up to the input.
 */
export async function writeBatchReport(
  dir: string,
  summary: { batchId: string; inputRows: number; ignoredColumns: string[] },
  rows: RowResult[],
): Promise<{ files: BatchReportFiles; counts: OutcomeCounts }> {
  const counts = countOutcomes(rows);
  const total = ROW_OUTCOMES.reduce((sum, o) => sum + counts[o], 0);
  const distinctRows = new Set(rows.map((r) => r.row)).size;
  if (total !== summary.inputRows || distinctRows !== summary.inputRows) {
    throw new Error(
      `batch ${summary.batchId}: report has ${total} results for ${distinctRows} distinct rows, but the input had ${summary.inputRows} rows`,
    );
  }
  rows.sort((a, b) => a.row - b.row);
  const files = reportFiles(dir);
  const pick = (...outcomes: RowResult['outcome'][]) => rows.filter((r) => outcomes.includes(r.outcome));
  await Promise.all([
    fs.promises.writeFile(
      files.json,
      JSON.stringify({ ...summary, counts, generatedAt: new Date().toISOString(), rows }, null, 1),
    ),
    fs.promises.writeFile(files.successCsv, csv(pick('updated', 'unchanged'))),
    fs.promises.writeFile(files.waitingCsv, csv(pick('waiting'))),
    fs.promises.writeFile(files.failureCsv, csv(pick('failed', 'rejected', 'superseded'))),
  ]);
  return { files, counts };
}
