import { CAPA_FIELDS, fromCsvCell } from './fields';
import { parseCsv } from '../sources/csv';

/** A bulk update body that is neither a JSON document nor well-formed CSV. */
export class UnreadableBody extends Error {}

/**
 * Reads a bulk update's body as Vault takes it: JSON, or CSV (Content-Type text/csv) whose header row names the
 * fields, id among them. CSV rows become the same rows a JSON array would hold, so both get the same answer.
 */
export async function readBulkBody(raw: string, contentType = ''): Promise<unknown> {
  if (contentType.includes('text/csv')) return readCsvRows(raw);
  try {
    return JSON.parse(raw);
  } catch {
    throw new UnreadableBody('body is not JSON');
  }
}

async function readCsvRows(raw: string): Promise<Array<Record<string, unknown>>> {
  const records = [];
  try {
    for await (const record of parseCsv(oneChunk(raw), Infinity)) records.push(record);
  } catch (err) {
    throw new UnreadableBody(`body is not CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  return rows.map(({ cells, line }) => {
    if (cells.length !== header.cells.length)
      throw new UnreadableBody(`CSV line ${line} has ${cells.length} cells, its header ${header.cells.length}`);
    return Object.fromEntries(header.cells.map((field, i) => [field, fromCsvCell(CAPA_FIELDS[field], cells[i])]));
  });
}

async function* oneChunk(text: string): AsyncGenerator<string> {
  yield text;
}
