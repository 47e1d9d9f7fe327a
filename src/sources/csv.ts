/**
 * A streaming RFC 4180 CSV reader: quoted fields with embedded commas, quotes ("") and newlines, CRLF or LF
 * line ends, and a leading BOM. Yields one record (array of cells) at a time with the line it started on,
 * so a 100,000-row export never sits in memory whole.
 */
export interface CsvRecord {
  cells: string[];
  /** 1-based line number where the record starts, for error messages. */
  line: number;
}

export class CsvSyntaxError extends Error {}

export async function* parseCsv(chunks: AsyncIterable<string>, maxCellChars = 1_000_000): AsyncGenerator<CsvRecord> {
  let cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  let afterQuote = false; // a closing quote was seen: the next character decides what it was
  let line = 1;
  let recordLine = 1;
  let first = true;
  let cellTooLong = false;

  const endCell = () => {
    cells.push(cellTooLong ? `\u0000TOO_LONG:${cell.length}` : cell);
    cell = '';
    cellTooLong = false;
  };

  for await (let chunk of chunks) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i];
      if (afterQuote) {
        afterQuote = false;
        if (ch === '"') {
          cell += '"';
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
          if (cell.length < maxCellChars) cell += ch;
          else cellTooLong = true;
        }
        continue;
      }
      if (ch === '"' && cell.length === 0) inQuotes = true;
      else if (ch === ',') endCell();
      else if (ch === '\n') {
        endCell();
        if (!(cells.length === 1 && cells[0] === '')) yield { cells, line: recordLine };
        cells = [];
        line++;
        recordLine = line;
      } else if (ch === '\r') {
        // CRLF: the \n that follows ends the record; a lone \r is dropped.
      } else if (cell.length < maxCellChars) cell += ch;
      else cellTooLong = true;
    }
  }
  if (inQuotes) throw new CsvSyntaxError(`line ${recordLine}: quoted field not closed before the end of the file`);
  if (cell.length || cells.length) {
    endCell();
    yield { cells, line: recordLine };
  }
}

/** Marks a cell that was cut at maxCellChars; the row validator reports it as too long. */
export function oversizedCellLength(cell: string): number | undefined {
  return cell.startsWith('\u0000TOO_LONG:') ? Number(cell.slice(10)) : undefined;
}
