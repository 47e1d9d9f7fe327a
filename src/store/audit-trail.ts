import { createHash } from 'node:crypto';
import { changedFields, type FieldValue, type FieldValues } from '../contracts/field-values';
import type { OwnWrite } from '../contracts/record-activities';
import type { Session } from './session';

/** One value written to Vault: what, from what, to what, when, for which batch, and who decided it. */
export interface AuditEntry {
  time: string;
  object: string;
  recordId: string;
  field: string;
  oldValue: FieldValue;
  newValue: FieldValue;
  batchId: string;
  actor: string;
  reason?: string;
  workflowId?: string;
  /** The write (a batch page, a record workflow's apply) that set the value: a retried write is audited once. */
  writeId?: string;
  /** When the risk system produced the value (the batch's start, or the row's own time): newest wins. */
  sourceTimestamp?: string;
}

/** Audit entries for the fields a write changed. */
export function changeEntries(
  common: Omit<AuditEntry, 'field' | 'oldValue' | 'newValue'>,
  values: FieldValues,
  before: FieldValues,
): AuditEntry[] {
  return changedFields(values, before).map((field) => ({
    ...common,
    field,
    oldValue: before[field] ?? null,
    newValue: values[field],
  }));
}

/** The hash the first entry chains to. */
const GENESIS = '0'.repeat(64);
/** Held while entries are appended: the chain has one order, whatever the number of workers. */
const CHAIN_LOCK = 4_216_004_202;
const VERIFY_PAGE = 10_000;

/** An entry's hash: its content and the hash of the entry before, so that no entry changes or goes unseen. */
function entryHash(prevHash: string, e: AuditEntry): string {
  const content = [
    e.time,
    e.object,
    e.recordId,
    e.field,
    e.oldValue ?? null,
    e.newValue ?? null,
    e.batchId,
    e.actor,
    e.reason ?? null,
    e.workflowId ?? null,
    e.writeId ?? null,
    e.sourceTimestamp ?? null,
  ];
  return createHash('sha256').update(prevHash).update(JSON.stringify(content)).digest('hex');
}

interface EntryRow {
  seq: string;
  time: Date;
  object: string;
  record_id: string;
  field: string;
  old_value: FieldValue;
  new_value: FieldValue;
  batch_id: string;
  actor: string;
  reason: string | null;
  workflow_id: string | null;
  write_id: string;
  source_timestamp: string | null;
  prev_hash: string;
  hash: string;
}

function toEntry(r: EntryRow): AuditEntry & { seq: number } {
  return {
    seq: Number(r.seq),
    time: r.time.toISOString(),
    object: r.object,
    recordId: r.record_id,
    field: r.field,
    oldValue: r.old_value,
    newValue: r.new_value,
    batchId: r.batch_id,
    actor: r.actor,
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.workflow_id === null ? {} : { workflowId: r.workflow_id }),
    writeId: r.write_id,
    ...(r.source_timestamp === null ? {} : { sourceTimestamp: r.source_timestamp }),
  };
}

/** The first entry whose content or link does not match its hash, if any. */
export interface VerifyResult {
  entries: number;
  broken?: { seq: number; recordId: string; field: string; problem: string };
}

/**
 * The audit trail: an append-only table (a trigger refuses UPDATE, DELETE and TRUNCATE), one row per field written,
 * each chained to the one before by hash.
 */
export class AuditTrail {
  constructor(private readonly db: Session) {}

  /**
   * Appends one write's entries (in the store's unit of work when called in one). A write is audited once: entries
   * the write already has (a retried or zombie attempt) are left out, and the unique key (write, record, field)
   * backs that up.
   */
  async append(entries: AuditEntry[], writeId: string): Promise<void> {
    if (entries.length) await this.db.transaction((tx) => appendChained(tx, entries, writeId));
  }

  /** The entries of one record or one batch (or all), oldest first. */
  async read(filter: { recordId?: string; batchId?: string } = {}): Promise<(AuditEntry & { seq: number })[]> {
    // Only the conditions given, so that each can use its index.
    const where: string[] = [];
    const params: string[] = [];
    for (const [column, value] of [
      ['record_id', filter.recordId],
      ['batch_id', filter.batchId],
    ] as const)
      if (value !== undefined) where.push(`${column} = $${params.push(value)}`);
    const { rows } = await this.db.query<EntryRow>(
      `SELECT * FROM audit_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`,
      params,
    );
    return rows.map(toEntry);
  }

  /** The newest value capa-sync wrote to each of the record's fields at or after `since` (fields it did not write are absent). */
  async lastOwnWrites(
    object: string,
    recordId: string,
    fields: string[],
    since: string,
  ): Promise<Record<string, OwnWrite>> {
    const { rows } = await this.db.query<{ field: string; new_value: FieldValue; source_timestamp: string | null }>(
      `SELECT DISTINCT ON (field) field, new_value, source_timestamp FROM audit_entries
       WHERE object = $1 AND record_id = $2 AND field = ANY($3) AND time >= $4
       ORDER BY field, seq DESC`,
      [object, recordId, fields, since],
    );
    return Object.fromEntries(
      rows.map((r) => [r.field, { value: r.new_value, sourceTimestamp: r.source_timestamp ?? undefined }]),
    );
  }

  /** Recomputes the chain from the first entry, and names the first entry that does not match. */
  async verify(): Promise<VerifyResult> {
    let prev = GENESIS;
    let after = 0;
    let entries = 0;
    for (;;) {
      const { rows } = await this.db.query<EntryRow>(
        'SELECT * FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, VERIFY_PAGE],
      );
      for (const row of rows) {
        const e = toEntry(row);
        const problem =
          row.prev_hash !== prev
            ? 'its link to the entry before does not match (an entry was removed or inserted)'
            : entryHash(prev, e) !== row.hash
              ? 'its content does not match its hash (it was changed)'
              : undefined;
        if (problem) return { entries, broken: { seq: e.seq, recordId: e.recordId, field: e.field, problem } };
        prev = row.hash;
        entries++;
      }
      if (rows.length < VERIFY_PAGE) return { entries };
      after = Number(rows[rows.length - 1].seq);
    }
  }
}

async function appendChained(db: Session, entries: AuditEntry[], writeId: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  const { rows: done } = await db.query<{ key: string }>(
    `SELECT record_id || '/' || field AS key FROM audit_entries WHERE write_id = $1`,
    [writeId],
  );
  const audited = new Set(done.map((r) => r.key));
  const fresh = entries
    .filter((e) => !audited.has(`${e.recordId}/${e.field}`))
    .map((e) => ({ ...e, writeId, time: new Date(e.time).toISOString() }));
  if (!fresh.length) return;
  const { rows: last } = await db.query<{ hash: string }>('SELECT hash FROM audit_entries ORDER BY seq DESC LIMIT 1');
  let prev = last[0]?.hash ?? GENESIS;
  const prevHashes: string[] = [];
  const hashes: string[] = [];
  for (const e of fresh) {
    prevHashes.push(prev);
    prev = entryHash(prev, e);
    hashes.push(prev);
  }
  const column = <K extends keyof AuditEntry>(k: K) => fresh.map((e) => e[k] ?? null);
  const json = (k: 'oldValue' | 'newValue') => fresh.map((e) => JSON.stringify(e[k] ?? null));
  await db.query(
    `INSERT INTO audit_entries (time, object, record_id, field, old_value, new_value, batch_id, actor, reason,
       workflow_id, write_id, source_timestamp, prev_hash, hash)
     SELECT t, o, r, f, ov, nv, b, a, rs, w, wr, st, ph, h
     FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
       WITH ORDINALITY AS x(t, o, r, f, ov, nv, b, a, rs, w, wr, st, ph, h, n)
     ORDER BY n
     ON CONFLICT (write_id, record_id, field) DO NOTHING`,
    [
      column('time'),
      column('object'),
      column('recordId'),
      column('field'),
      json('oldValue'),
      json('newValue'),
      column('batchId'),
      column('actor'),
      column('reason'),
      column('workflowId'),
      column('writeId'),
      column('sourceTimestamp'),
      prevHashes,
      hashes,
    ],
  );
}
