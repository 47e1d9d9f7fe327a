import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import axios from 'axios';
import { parseCsv } from './csv';
import { splitJsonArray, splitLines } from './json-stream';
import type { RawRow } from './validate-row';

/** A cell above this is refused (the row, not the file): far above any CAPA field, far below memory trouble. */
export const MAX_CELL_CHARS = 100_000;

export type SourceItem =
  { row: number; raw: RawRow; columns?: string[] } | { row: number; problem: string; field?: string };

export type SourceFormat = 'csv' | 'json' | 'jsonl';

const URL_PATTERN = /^https?:\/\//;

export const isUrl = (source: string) => URL_PATTERN.test(source);

/** A source as the batch should see it: a URL as given, a file as an absolute path. */
export const sourceLocation = (source: string) => (isUrl(source) ? source : path.resolve(source));

/** The format of a file by its extension. */
export function formatOf(file: string): SourceFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  throw new Error(`unknown source format of ${file}: expected .csv, .json, .jsonl or .ndjson`);
}

/** Fetches an HTTP(S) source into a local file (rows are then streamed from disk) and says which format it is. */
export async function downloadSource(url: string, dir: string): Promise<{ file: string; format: SourceFormat }> {
  const res = await axios.get(url, { responseType: 'stream', timeout: 60_000, validateStatus: (s) => s < 300 });
  const type = String(res.headers['content-type'] ?? '');
  const format: SourceFormat =
    type.includes('ndjson') || type.includes('jsonl') ? 'jsonl' : type.includes('csv') ? 'csv' : 'json';
  const file = path.join(dir, `source.${format}`);
  await pipeline(res.data, fs.createWriteStream(file));
  return { file, format };
}

async function* decoded(file: string): AsyncGenerator<string> {
  // Invalid UTF-8 becomes U+FFFD, which the row validator refuses for that row only.
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 }))
    yield decoder.decode(chunk as Buffer, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Streams a source file as raw rows (numbered from 1, header excluded), or per-row problems. */
export async function* readSource(file: string, format: SourceFormat): AsyncGenerator<SourceItem> {
  if (format === 'csv') {
    let header: string[] | undefined;
    let row = 0;
    for await (const rec of parseCsv(decoded(file), MAX_CELL_CHARS)) {
      if (!header) {
        header = rec.cells.map((c) => c.trim());
        continue;
      }
      row++;
      if (rec.oversized.length) {
        yield {
          row,
          field: header[rec.oversized[0]] ?? '?',
          problem: `cell longer than ${MAX_CELL_CHARS} characters (line ${rec.line})`,
        };
      } else if (rec.cells.length !== header.length) {
        yield {
          row,
          field: '*',
          problem: `has ${rec.cells.length} cells, the header has ${header.length} (line ${rec.line})`,
        };
      } else {
        yield {
          row,
          raw: Object.fromEntries(header.map((h, i) => [h, rec.cells[i]])),
          columns: row === 1 ? header : undefined,
        };
      }
    }
    return;
  }
  const texts = format === 'json' ? numbered(splitJsonArray(decoded(file))) : splitLines(decoded(file));
  let row = 0;
  for await (const { text } of texts) {
    row++;
    if (text.length > MAX_CELL_CHARS * 4) {
      yield { row, field: '*', problem: `row longer than ${MAX_CELL_CHARS * 4} characters` };
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      yield { row, field: '*', problem: 'not valid JSON' };
      continue;
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) yield { row, field: '*', problem: 'not a JSON object' };
    else yield { row, raw: raw as RawRow, columns: Object.keys(raw) };
  }
}

async function* numbered(texts: AsyncIterable<string>): AsyncGenerator<{ text: string; line: number }> {
  let line = 0;
  for await (const text of texts) yield { text, line: ++line };
}
