import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { BATCH_ID_PATTERN } from '../workflows/batch-messages';
import { LineWriter } from './line-writer';
import type { Mapping } from './mapping';
import { formatOf, printable, readSource, SourceFormat } from './read-source';
import { SourceError } from './source-error';
import { isRejection, Rejection, rowValidator, ValidRow } from './validate-row';

export interface Superseded {
  row: number;
  recordId: string;
  supersededBy: number;
}

export interface PreparedBatch {
  inputRows: number;
  validRows: number;
  rejected: number;
  superseded: number;
  /** Source columns that map to no Vault field: never written. */
  ignoredColumns: string[];
  /** Byte offset of each page's first row in rows.jsonl, so a page is read without scanning the file. */
  pageOffsets: number[];
  pageSize: number;
}

const pageName = (page: number) => String(page).padStart(5, '0');

/** A batch's folder: named by the id as it is, so that two ids never share one. */
export function batchDir(dataDir: string, batchId: string): string {
  if (!BATCH_ID_PATTERN.test(batchId)) throw new Error(`invalid batch id ${JSON.stringify(batchId)}`);
  return path.join(dataDir, 'batches', batchId);
}

/** The files of one batch, under <dataDir>/batches/<batchId>/. */
export const batchFiles = (dir: string) => ({
  rows: path.join(dir, 'rows.jsonl'),
  allValid: path.join(dir, 'valid-with-duplicates.jsonl'),
  rejected: path.join(dir, 'rejected.jsonl'),
  superseded: path.join(dir, 'superseded.jsonl'),
  prepared: path.join(dir, 'prepared.json'),
  running: path.join(dir, 'running-record-workflows.json'),
  /** The Vault states of the records a page is about to write, as read before: written before the bulk update. */
  intent: (page: number) => path.join(dir, `intent-page-${pageName(page)}.jsonl`),
  results: (page: number) => path.join(dir, `results-page-${pageName(page)}.jsonl`),
  handOffs: (page: number) => path.join(dir, `hand-offs-page-${pageName(page)}.jsonl`),
  waiting: (page: number) => path.join(dir, `waiting-page-${pageName(page)}.jsonl`),
});

/**
 * Streams the source once: validates each row, writes rejections, and keeps the last row of each record id
 * (earlier ones are superseded). Valid rows land in rows.jsonl in source order, split into pages by offset.
 */
export async function prepareBatch(
  source: { file: string; format?: SourceFormat },
  mapping: Mapping,
  dir: string,
  pageSize: number,
  signal?: AbortSignal,
): Promise<PreparedBatch> {
  const files = batchFiles(dir);
  await fs.promises.mkdir(dir, { recursive: true });
  const validate = rowValidator(mapping);
  const known = new Set([mapping.idColumn, mapping.timestampColumn, ...Object.keys(mapping.columns)]);
  const ignored = new Set<string>();
  const lastRowOf = new Map<string, number>();
  const rejected = new LineWriter(files.rejected);
  const allValid = new LineWriter(files.allValid);
  let inputRows = 0;
  let rejectedCount = 0;
  const reject = async (r: Rejection) => {
    rejectedCount++;
    await rejected.write(JSON.stringify(r));
  };
  for await (const item of readSource(source.file, source.format ?? formatOf(source.file))) {
    inputRows++;
    if (inputRows % 1000 === 0) signal?.throwIfAborted();
    if ('problem' in item) {
      await reject({ row: item.row, field: item.field ?? '*', reason: item.problem });
      continue;
    }
    item.columns?.forEach((c) => known.has(c) || ignored.add(printable(c)));
    const result = validate(item.row, item.raw);
    if (isRejection(result)) await reject(result);
    else {
      lastRowOf.set(result.id, result.row);
      await allValid.write(JSON.stringify(result));
    }
  }
  await Promise.all([rejected.close(), allValid.close()]);
  if (inputRows === 0) throw new SourceError('the source has no rows');

  // Second pass over the valid rows: drop all but the last row of each record.
  const rows = new LineWriter(files.rows);
  const superseded = new LineWriter(files.superseded);
  const pageOffsets: number[] = [];
  let offset = 0;
  let validRows = 0;
  let supersededCount = 0;
  for await (const line of readline.createInterface({
    input: fs.createReadStream(files.allValid),
    crlfDelay: Infinity,
  })) {
    const row = JSON.parse(line) as ValidRow;
    const last = lastRowOf.get(row.id)!;
    if (last !== row.row) {
      supersededCount++;
      await superseded.write(
        JSON.stringify({ row: row.row, recordId: row.id, supersededBy: last } satisfies Superseded),
      );
      continue;
    }
    if (validRows % pageSize === 0) pageOffsets.push(offset);
    validRows++;
    const text = line + '\n';
    offset += Buffer.byteLength(text);
    await rows.write(line);
  }
  await Promise.all([rows.close(), superseded.close()]);
  await fs.promises.rm(files.allValid);
  const prepared: PreparedBatch = {
    inputRows,
    validRows,
    rejected: rejectedCount,
    superseded: supersededCount,
    ignoredColumns: [...ignored].sort(),
    pageOffsets,
    pageSize,
  };
  await fs.promises.writeFile(files.prepared, JSON.stringify(prepared));
  return prepared;
}

/** Reads one page of prepared rows by its byte offset. */
export async function readPage(dir: string, prepared: PreparedBatch, page: number): Promise<ValidRow[]> {
  const start = prepared.pageOffsets[page];
  const end = prepared.pageOffsets[page + 1];
  const stream = fs.createReadStream(batchFiles(dir).rows, { start, end: end === undefined ? undefined : end - 1 });
  const rows: ValidRow[] = [];
  for await (const line of readline.createInterface({ input: stream, crlfDelay: Infinity }))
    if (line) rows.push(JSON.parse(line));
  return rows;
}

export async function readJsonLines<T>(file: string): Promise<T[]> {
  if (!fs.existsSync(file)) return [];
  const items: T[] = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity }))
    if (line) items.push(JSON.parse(line));
  return items;
}
