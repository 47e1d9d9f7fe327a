// vault/: Veeva Vault's REST API as capa-sync uses it: the session, retries and burst limits (http.ts), the two
// dialects, and the client's calls (bulk read and update, lock). Imports contracts and observability.

import pLimit from 'p-limit';
import type { z } from 'zod';
import { VaultError } from './errors';
import { NOT_SENT, OUTCOME_UNKNOWN, VaultHttp, type VaultRequest } from './http';

import { classifyRecordError, VaultDialect } from './dialect';
import { BulkRowResult, BulkUpdateResponse, LockResponse, QueryResponse } from './schemas';
import { assertName, assertRecordId, buildStateQueries } from './vql';
import { holdsValues } from '../contracts/field-values';
import type { LockInfo, RecordState, RecordWriteOutcome, UpdateRow } from './types';

/** How a bulk update is sent (a guarded write's: once; see VaultRequest). */
export type UpdateOptions = Pick<VaultRequest, 'sendOnce'>;

export const MAX_ROWS_PER_UPDATE = 500;

/**
 * A call's requests sent side by side (a page's queries of 1,000 ids, its updates of 500 rows), by default: they hold
 * distinct records, and the HTTP layer pauses them all near Vault's burst limit (CAPA_UPDATE_CONCURRENCY).
 */
export const DEFAULT_REQUESTS_AT_ONCE = 3;

/** Runs `work` on each part, `atOnce` at a time, in order; fails once every part has ended (none in flight). */
async function sideBySide<P, R>(parts: P[], atOnce: number, work: (part: P) => Promise<R>): Promise<R[]> {
  const limit = pLimit(atOnce);
  const settled = await Promise.allSettled(parts.map((p) => limit(() => work(p))));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}
/**
 * Never written, whatever a caller asks: Vault's own identity, lifecycle and system-managed fields (standard
 * fields Vault sets itself; an explicit list, since some `__v` fields, such as name__v, are editable).
 */
export const PROTECTED_FIELDS = new Set([
  'id',
  'state__v',
  'status__v',
  'lifecycle__v',
  'state_stage_id__v',
  'stage__v',
  'object_type__v',
  'created_by__v',
  'created_date__v',
  'modified_by__v',
  'modified_date__v',
  'global_id__sys',
  'global_version_id__sys',
  'link__sys',
  'version_id',
]);

/** The operations capa-sync needs from a vault; implemented over HTTP and by the coalescing wrapper. */
export interface VaultApi {
  bulkUpdate(object: string, rows: UpdateRow[], o?: UpdateOptions): Promise<RecordWriteOutcome[]>;
  readStates(object: string, ids: string[], fields: string[]): Promise<RecordState[]>;
  readLock(object: string, id: string, o?: { onceWithinMs?: number }): Promise<LockInfo>;
}

/**
 * A lock read for one record among many (a write group's, a watcher tick's): once, within this long. A slow or failing
 * lock endpoint then costs that record this tick, not the others their writes.
 */
export const ONE_RECORD_LOCK_READ = { onceWithinMs: 5_000 };

export class VaultClient implements VaultApi {
  constructor(
    private readonly http: VaultHttp,
    readonly dialect: VaultDialect,
    private readonly requestsAtOnce = DEFAULT_REQUESTS_AT_ONCE,
  ) {}

  get stats() {
    return this.http.stats;
  }

  private objectPath(object: string): string {
    assertName('object', object);
    return `${this.http.apiPrefix}/${this.dialect.objectPath}/${object}`;
  }

  /** Updates rows in requests of at most 500; one outcome per row, in input order. */
  async bulkUpdate(object: string, rows: UpdateRow[], o: UpdateOptions = {}): Promise<RecordWriteOutcome[]> {
    assertWritableRows(rows);
    const chunks = Array.from({ length: Math.ceil(rows.length / MAX_ROWS_PER_UPDATE) }, (_, k) =>
      rows.slice(k * MAX_ROWS_PER_UPDATE, (k + 1) * MAX_ROWS_PER_UPDATE),
    );
    return (await sideBySide(chunks, this.requestsAtOnce, (chunk) => this.updateChunk(object, chunk, o))).flat();
  }

  private async updateChunk(object: string, rows: UpdateRow[], o: UpdateOptions): Promise<RecordWriteOutcome[]> {
    let response;
    try {
      response = await this.http.request(
        {
          kind: 'bulkUpdate',
          method: 'PUT',
          path: this.objectPath(object),
          json: rows.map((r) => ({ id: r.id, ...r.values })),
          write: true,
          ...o,
        },
        BulkUpdateResponse,
      );
    } catch (err) {
      if (err instanceof VaultError && err.errorType === OUTCOME_UNKNOWN) return this.readBack(object, rows, err);
      // Refused before Vault took it: this request's rows only, the others of the call went their own way.
      if (err instanceof VaultError && err.errorType === NOT_SENT)
        return rows.map((r) => ({ id: r.id, status: 'transient', errorType: NOT_SENT, message: err.message }));
      throw err;
    }
    const { status, body } = response;
    const lockedByStatus = status === 423 && this.dialect.http423MeansLocked;
    if (!body.data || body.data.length !== rows.length) {
      // The whole request failed (or Vault answered for other rows than we sent): one verdict for all rows.
      const error = body.errors?.[0];
      const verdict: RecordWriteOutcome['status'] = lockedByStatus
        ? 'locked'
        : error
          ? classifyRecordError(this.dialect, error.type)
          : 'transient';
      const message =
        error?.message ??
        (body.data
          ? `Vault answered ${body.data.length} rows for ${rows.length}`
          : `HTTP ${status} without row results`);
      return rows.map((r) => ({ id: r.id, status: verdict, errorType: error?.type, message }));
    }
    return rows.map((row, i) => this.rowOutcome(row.id, body.data![i], lockedByStatus));
  }

  /**
   * Settles a write whose answer was lost by reading the records back, before anything is sent again: a record
   * that holds the values took our write; one that does not never got it, and is safe to send again.
   */
  private async readBack(object: string, rows: UpdateRow[], cause: VaultError): Promise<RecordWriteOutcome[]> {
    const fields = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
    const read = await this.readStates(
      object,
      rows.map((r) => r.id),
      fields,
    );
    const states = new Map(read.map((s) => [s.id, s]));
    return rows.map((row) => {
      const state = states.get(row.id);
      return state && holdsValues(state.values, row.values)
        ? { id: row.id, status: 'updated', message: 'answer lost; the write was confirmed by reading the record back' }
        : { id: row.id, status: 'transient', errorType: OUTCOME_UNKNOWN, message: cause.message };
    });
  }

  private rowOutcome(id: string, result: BulkRowResult, lockedByStatus: boolean): RecordWriteOutcome {
    if (result.responseStatus === 'SUCCESS') return { id, status: 'updated' };
    if (result.responseStatus === 'WARNING') {
      const noChange = result.warnings?.some((w) => (w.warning_type ?? w.type) === 'NO_DATA_CHANGES');
      return { id, status: noChange ? 'unchanged' : 'updated', message: result.warnings?.[0]?.message };
    }
    const error = result.errors?.[0];
    if (!error)
      return { id, status: lockedByStatus ? 'locked' : 'transient', message: 'row failed without an error type' };
    return { id, status: classifyRecordError(this.dialect, error.type), errorType: error.type, message: error.message };
  }

  /** Reads state__v, status__v and fields by VQL, at most 1,000 ids a query, following next_page. */
  async readStates(object: string, ids: string[], fields: string[]): Promise<RecordState[]> {
    const queries = buildStateQueries(object, ids, fields);
    return (await sideBySide(queries, this.requestsAtOnce, (q) => this.queryStates(q, fields))).flat();
  }

  /** One query's records, following its result pages. */
  private async queryStates(q: string, fields: string[]): Promise<RecordState[]> {
    const states: RecordState[] = [];
    let page = await this.http.request(
      { kind: 'query', method: 'POST', path: `${this.http.apiPrefix}/query`, form: { q } },
      QueryResponse,
    );
    for (;;) {
      refuseFailedQuery(page.body);
      for (const row of page.body.data ?? []) states.push(toRecordState(row, fields));
      const next = page.body.responseDetails?.next_page;
      if (!next) return states;
      page = await this.http.request({ kind: 'query', method: 'GET', path: next }, QueryResponse);
    }
  }

  /** How many records the object holds: the first page's total of one query (the approval gate's object size). */
  async countRecords(object: string): Promise<number> {
    assertName('object', object);
    const page = await this.http.request(
      { kind: 'query', method: 'POST', path: `${this.http.apiPrefix}/query`, form: { q: `SELECT id FROM ${object}` } },
      QueryResponse,
    );
    refuseFailedQuery(page.body);
    return page.body.responseDetails?.total ?? page.body.data?.length ?? 0;
  }

  /**
   * The customer dialect's lock endpoint: who holds the lock, since when. `onceWithinMs`: one attempt, failing
   * fast (a lock read for one record among many).
   */
  async readLock(object: string, id: string, o: { onceWithinMs?: number } = {}): Promise<LockInfo> {
    assertRecordId(id);
    if (!this.dialect.lockEndpoint)
      throw new VaultError('invalid-input', 'the lock endpoint is not enabled for this dialect');
    const { body } = await this.http.request(
      { kind: 'readLock', method: 'GET', path: `${this.objectPath(object)}/${id}/lock`, ...o },
      LockResponse,
    );
    if (!body.data)
      throw new VaultError(
        'permanent',
        `lock of ${id}: ${body.errors?.[0]?.type ?? 'no data'}`,
        body.errors?.[0]?.type,
      );
    return {
      locked: body.data.locked,
      lockedBy: body.data.locked_by ?? undefined,
      lockedSince: body.data.locked_since ?? undefined,
    };
  }
}

/** Refuses, before any call, ids outside the strict pattern and fields that must never be written. */
export function assertWritableRows(rows: UpdateRow[]): void {
  for (const row of rows) {
    assertRecordId(row.id);
    for (const field of Object.keys(row.values)) {
      assertName('field', field);
      if (PROTECTED_FIELDS.has(field))
        throw new VaultError('invalid-input', `record ${row.id}: field ${field} is never written`);
    }
  }
}

function toRecordState(row: Record<string, unknown>, fields: string[]): RecordState {
  const status = Array.isArray(row.status__v) ? row.status__v[0] : row.status__v;
  const values: RecordState['values'] = {};
  for (const f of fields) values[f] = (row[f] ?? null) as RecordState['values'][string];
  return { id: String(row.id), state: String(row.state__v ?? ''), status: String(status ?? ''), values };
}

function refuseFailedQuery(body: z.infer<typeof QueryResponse>): void {
  if (body.responseStatus !== 'FAILURE') return;
  const error = body.errors?.[0];
  throw new VaultError(
    'permanent',
    `query failed: ${error?.type ?? 'FAILURE'} ${error?.message ?? ''}`.trim(),
    error?.type,
  );
}
