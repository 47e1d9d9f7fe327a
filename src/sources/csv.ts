import { SourceError } from './source-error';

/**
 * A streaming RFC 4180 CSV reader: quoted fields with embedded commas, quotes ("") and newlines, CRLF, LF or
 * CR-only (old Mac) line ends, and a leading BOM. Yields one record at a time with the line it started on, so a 100,000-row
 * export never sits in memory whole. Cells longer than maxCellChars are cut and flagged, not buffered.
 *
 * Hand-written, not csv-parse: csv-parse's only guard on a huge cell (max_record_size) throws and ends the stream,
 * so one 10 MB cell would lose every row after it; here that row alone is rejected and the rest are read.
 */
export interface CsvRecord {
  cells: string[];
  /** 1-based line number where the record starts, for error messages. */
  line: number;
  /** Indexes of cells that were longer than maxCellChars. */
  oversized: number[];
}

export async function* parseCsv(chunks: AsyncIterable<string>, maxCellChars: number): AsyncGenerator<CsvRecord> {
  let record: CsvRecord = { cells: [], line: 1, oversized: [] };
  let cell = '';
  let inQuotes = false;
  let afterQuote = false; // a quote inside a quoted field: either "" (a quote) or the field's end
  let line = 1;
  let first = true;
  let afterCR = false; // a line feed right after a carriage return ends nothing more

  const add = (ch: string) => {
    if (cell.length < maxCellChars) cell += ch;
    else if (!record.oversized.includes(record.cells.length)) record.oversized.push(record.cells.length);
  };
  const endCell = () => {
    record.cells.push(cell);
    cell = '';
  };

  for await (let chunk of chunks) {
    if (first && chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    first = false;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i];
      if (afterQuote) {
        afterQuote = false;
        if (ch === '"') {
          add('"');
          inQuotes = true;
          continue;
        }
      }
      if (inQuotes) {
        if (ch === '"') {
          inQuotes = false;
          afterQuote = true;
        } else {
          if (ch === '\n') line++;
          add(ch);
        }
      } else if (ch === '"' && cell.length === 0) inQuotes = true;
      else if (ch === ',') endCell();
      else if (ch === '\n' || ch === '\r') {
        const crlf = afterCR && ch === '\n';
        afterCR = ch === '\r';
        if (crlf) continue;
        endCell();
        const blank = record.cells.length === 1 && record.cells[0] === '';
        if (!blank) yield record;
        line++;
        record = { cells: [], line, oversized: [] };
        continue;
      } else add(ch);
      afterCR = false;
    }
  }
  if (inQuotes) throw new SourceError(`line ${record.line}: quoted field not closed before the end of the file`);
  if (cell.length || record.cells.length) {
    endCell();
    yield record;
  }
}
