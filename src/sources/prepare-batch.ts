import type { Mapping } from './mapping';
import { formatOf, printable, readSource, SourceFormat } from './read-source';
import { SourceError } from './source-error';
import { isRejection, rowValidator, ValidRow } from './validate-row';

/** One input row as staged: a valid row's values, or the reason it was refused. */
export type StagedRow = { valid: ValidRow } | { row: number; field: string; reason: string };

export interface PreparedBatch {
  inputRows: number;
  validRows: number;
  rejected: number;
  /** Source columns that map to no Vault field: never written. */
  ignoredColumns: string[];
  /** Record ids with more than one valid row, and the last row of each: the earlier rows are superseded. */
  repeated: { recordIds: string[]; lastRows: number[] };
  /** The row number each page of live (valid, not superseded) rows starts at. */
  pageStarts: number[];
}

/**
 * Streams the source once: validates each row and hands it to `stage` in source order. The last row of each record
 * id is the live one; live rows are cut into pages of `pageSize` by their row numbers.
 */
export async function prepareBatch(
  source: { file: string; format?: SourceFormat },
  mapping: Mapping,
  pageSize: number,
  stage: (row: StagedRow) => Promise<void> | undefined,
  signal?: AbortSignal,
): Promise<PreparedBatch> {
  const validate = rowValidator(mapping);
  const known = new Set([mapping.idColumn, mapping.timestampColumn, ...Object.keys(mapping.columns)]);
  const ignored = new Set<string>();
  const lastRowOf = new Map<string, number>();
  const repeated = new Set<string>();
  let inputRows = 0;
  let rejected = 0;
  let validRows = 0;
  for await (const item of readSource(source.file, source.format ?? formatOf(source.file))) {
    inputRows++;
    if (inputRows % 1000 === 0) signal?.throwIfAborted();
    if ('problem' in item) {
      rejected++;
      await stage({ row: item.row, field: item.field ?? '*', reason: item.problem });
      continue;
    }
    item.columns?.forEach((c) => known.has(c) || ignored.add(printable(c)));
    const result = validate(item.row, item.raw);
    if (isRejection(result)) {
      rejected++;
      await stage(result);
      continue;
    }
    validRows++;
    if (lastRowOf.has(result.id)) repeated.add(result.id);
    lastRowOf.set(result.id, result.row);
    await stage({ valid: result });
  }
  if (inputRows === 0) throw new SourceError('the source has no rows');
  const live = Int32Array.from(lastRowOf.values()).sort();
  const pageStarts: number[] = [];
  for (let i = 0; i < live.length; i += pageSize) pageStarts.push(live[i]);
  const recordIds = [...repeated];
  return {
    inputRows,
    validRows,
    rejected,
    ignoredColumns: [...ignored].sort(),
    repeated: { recordIds, lastRows: recordIds.map((id) => lastRowOf.get(id)!) },
    pageStarts,
  };
}
