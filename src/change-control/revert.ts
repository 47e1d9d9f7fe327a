import type { BatchWrite } from '../contracts/batch-write';
import type { PreparedBatch, StagedRow } from '../sources/prepare-batch';

/**
 * A revert's rows, one per record the reverted batch wrote: the values the record held before the batch, written
 * only where the record still holds every value the batch wrote (`expected`). Pages are cut as a source's are.
 */
export async function stageRevert(
  written: AsyncIterable<BatchWrite>,
  pageSize: number,
  stage: (row: StagedRow) => Promise<void> | undefined,
): Promise<PreparedBatch> {
  const pageStarts: number[] = [];
  let rows = 0;
  for await (const w of written) {
    if (rows % pageSize === 0) pageStarts.push(rows + 1);
    rows++;
    await stage({ valid: { row: rows, id: w.recordId, values: w.before, expected: w.after } });
  }
  return {
    inputRows: rows,
    validRows: rows,
    rejected: 0,
    ignoredColumns: [],
    repeated: { recordIds: [], lastRows: [] },
    pageStarts,
  };
}

/** Why batch `of` cannot be reverted (not a batch, or not finished: it may still write), or undefined. */
export function revertRefusal(of: string, target: { kind: string; status: string } | undefined): string | undefined {
  if (target?.kind !== 'batch') return `there is no batch ${of} to revert`;
  if (target.status !== 'finished')
    return `batch ${of} has not finished: reject it if it waits for approval, or revert it once it ends`;
  return undefined;
}
