// sources/: the risk system's exports: reading files and URLs as a stream (CSV, JSON, JSON Lines), the column mapping,
// each row's validation, and the batch's preparation into pages. Imports the layers below it.

import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import axios from 'axios';
import { parseCsv } from './csv';
import { splitJsonArray, splitLines, StreamedElement } from './json-stream';
import { SourceError } from './source-error';
import type { RawRow } from './validate-row';

/** A cell above this is refused (the row, not the file): far above any CAPA field, far below memory trouble. */
export const MAX_CELL_CHARS = 100_000;

export type SourceItem =
  { row: number; raw: RawRow; columns?: string[] } | { row: number; problem: string; field?: string };

export type SourceFormat = 'csv' | 'json' | 'jsonl';

const URL_PATTERN = /^https?:\/\//;

export const isUrl = (source: string) => URL_PATTERN.test(source);

/** A source as messages, logs and alerts may show it: a URL without credentials or query (which may hold a token). */
export function displaySource(source: string): string {
  if (!isUrl(source)) return source;
  try {
    const url = new URL(source);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return 'an unparseable URL';
  }
}

/** A source as the batch should see it: a URL as given, a file as an absolute path. */
export const sourceLocation = (source: string) => (isUrl(source) ? source : path.resolve(source));

/** A source that names a file on this machine, checked to be one: its absolute path. */
export async function localSourceFile(source: string, hint = ''): Promise<string> {
  const file = path.resolve(source);
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (!stat) throw new SourceError(`source file not found: ${file}${hint}`);
  if (!stat.isFile()) throw new SourceError(`source is not a file: ${file}`);
  return file;
}

/** The format of a file by its extension. */
export function formatOf(file: string): SourceFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  throw new SourceError(`unknown source format of ${file}: expected .csv, .json, .jsonl or .ndjson`);
}

/** Answers a URL source may give that asking again will not change (a 5xx or a dropped connection may). */
const DEFINITE = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * Fetches an HTTP(S) source into a local file (rows are then streamed from disk) and says which format it is.
 * Stops at maxBytes, and when `signal` aborts (the activity was cancelled or timed out): an abandoned attempt
 * does not keep writing. A 4xx, an HTML page, a redirect loop or an oversized body is a SourceError.
 */
export async function downloadSource(
  url: string,
  dir: string,
  { maxBytes, signal }: { maxBytes: number; signal?: AbortSignal },
): Promise<{ file: string; format: SourceFormat }> {
  const shown = displaySource(url);
  let res;
  try {
    res = await axios.get(url, { responseType: 'stream', timeout: 60_000, maxRedirects: 5, signal });
  } catch (err) {
    const { code, response } = err as { code?: string; response?: { status: number } };
    if (response && DEFINITE(response.status)) throw new SourceError(`${shown} answered HTTP ${response.status}`);
    if (code === 'ERR_FR_TOO_MANY_REDIRECTS') throw new SourceError(`${shown} redirects too many times`);
    throw new Error(`${shown}: ${response ? `HTTP ${response.status}` : (code ?? 'no answer')}`);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (type.includes('html')) {
    res.data.destroy();
    throw new SourceError(`${shown} answered a web page (${type}), not CSV or JSON`);
  }
  const format: SourceFormat =
    type.includes('ndjson') || type.includes('jsonl') ? 'jsonl' : type.includes('csv') ? 'csv' : 'json';
  const file = path.join(dir, `source.${format}`);
  let bytes = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(
        bytes > maxBytes ? new SourceError(`${shown} is larger than ${maxBytes} bytes (CAPA_SOURCE_MAX_BYTES)`) : null,
        chunk,
      );
    },
  });
  await pipeline(res.data, capped, fs.createWriteStream(file), { signal });
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

/** A row's JSON text (or its JSON Lines line) above this is refused, and never held in memory whole. */
const MAX_ROW_CHARS = MAX_CELL_CHARS * 4;

/** Streams a source file as raw rows (numbered from 1, header excluded), or per-row problems. */
export async function* readSource(file: string, format: SourceFormat): AsyncGenerator<SourceItem> {
  if (format === 'csv') {
    let header: string[] | undefined;
    let row = 0;
    for await (const rec of parseCsv(decoded(file), MAX_CELL_CHARS)) {
      if (!header) {
        header = rec.cells.map((c) => c.trim());
        const twice = header.find((h, i) => header!.indexOf(h) !== i);
        if (twice !== undefined) throw new SourceError(`line ${rec.line}: column ${printable(twice)} appears twice`);
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
  const elements: AsyncIterable<StreamedElement> =
    format === 'json' ? splitJsonArray(decoded(file), MAX_ROW_CHARS) : splitLines(decoded(file), MAX_ROW_CHARS);
  let row = 0;
  for await (const element of elements) {
    row++;
    if (!('text' in element)) {
      yield { row, field: '*', problem: `row longer than ${MAX_ROW_CHARS} characters (${element.oversizedChars})` };
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(element.text);
    } catch {
      yield { row, field: '*', problem: 'not valid JSON' };
      continue;
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) yield { row, field: '*', problem: 'not a JSON object' };
    else yield { row, raw: raw as RawRow, columns: Object.keys(raw) };
  }
}

/** A name from the source as it may be shown on a terminal: with control characters (ANSI escapes), escaped. */
export function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name) : name;
}
