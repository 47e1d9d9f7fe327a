import { VaultError } from './errors';

/** Strict patterns for everything that enters a VQL query or a URL path: raw input is never spliced in. */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;
const NAME_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;

export const MAX_IDS_PER_QUERY = 1000;
export const MAX_QUERY_CHARS = 50_000;

export function assertRecordId(id: string): void {
  if (typeof id !== 'string' || !RECORD_ID_PATTERN.test(id)) {
    throw new VaultError(
      'invalid-input',
      `invalid record id ${JSON.stringify(String(id).slice(0, 60))}: expected letters, digits, "_" or "-" (at most 40)`,
    );
  }
}

export function assertName(kind: 'object' | 'field', name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new VaultError('invalid-input', `invalid ${kind} name ${JSON.stringify(String(name).slice(0, 60))}`);
  }
}

/**
 * Builds `SELECT ... WHERE id CONTAINS (...)` queries for the ids, each with at most 1,000 ids and 50,000
 * characters. Every id and name is validated before any query is built.
 */
export function buildStateQueries(object: string, ids: string[], fields: string[]): string[] {
  assertName('object', object);
  fields.forEach((f) => assertName('field', f));
  ids.forEach(assertRecordId);
  const select = ['id', 'state__v', 'status__v', ...fields.filter((f) => !['id', 'state__v', 'status__v'].includes(f))];
  const head = `SELECT ${select.join(', ')} FROM ${object} WHERE id CONTAINS (`;
  const queries: string[] = [];
  let chunk: string[] = [];
  let length = head.length + 1;
  const flush = () => {
    if (chunk.length) queries.push(`${head}${chunk.join(',')})`);
    chunk = [];
    length = head.length + 1;
  };
  for (const id of new Set(ids)) {
    const quoted = `'${id}'`;
    if (chunk.length >= MAX_IDS_PER_QUERY || length + quoted.length + 1 > MAX_QUERY_CHARS) flush();
    chunk.push(quoted);
    length += quoted.length + 1;
  }
  flush();
  return queries;
}
