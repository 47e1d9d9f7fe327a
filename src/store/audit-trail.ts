import type { KeyObject } from 'node:crypto';
import { entryHash, type HashVersion, HASH_VERSION } from './entry-hash';
import type { AuditEntry, DecisionEntry, EntryCommon, WriteEntry } from './audit-entry';
import { changedFields, type FieldValue, type FieldValues } from '../contracts/field-values';
import type { OwnWrite } from '../contracts/record-activities';
import type { DecisionKind, DecisionOrigin } from '../contracts/decisions';
import type { AuditAnchor } from '../contracts/audit-anchor';
import type { BatchWrite } from '../contracts/batch-write';
import { anchorProblem, type AuditSigner } from '../audit/signing-key';
import { inPages, present } from './rows';
import type { Session } from './session';

export type { AuditEntry, DecisionEntry, WriteEntry } from './audit-entry';

/** An entry as stored: with its place in the chain. */
/** An entry as stored: with its place in the chain, and how its hash was computed (see entry-hash.ts). */
export type StoredEntry = AuditEntry & { seq: number; prevHash: string; hash: string; hashVersion: HashVersion };

/** Audit entries for the fields a write changed. */
export function changeEntries(common: EntryCommon & { recordId: string }, values: FieldValues, before: FieldValues) {
  return changedFields(values, before).map((field): WriteEntry => ({
    ...common,
    kind: 'write',
    field,
    oldValue: before[field] ?? null,
    newValue: values[field],
  }));
}

/** The hash the first entry chains to (and the head of an empty trail). */
export const GENESIS = '0'.repeat(64);
/** Held while entries are appended: the chain has one order, whatever the number of workers. */
const CHAIN_LOCK = 4_216_004_202;
const VERIFY_PAGE = 10_000;
const WRITTEN_PAGE = 5_000;

/** audit_entries' rows as pg returns them. */
interface EntryRow {
  seq: string;
  time: Date;
  object: string;
  record_id: string | null;
  field: string | null;
  old_value: FieldValue;
  new_value: FieldValue | FieldValues;
  batch_id: string;
  actor: string;
  reason: string | null;
  workflow_id: string | null;
  write_id: string;
  source_timestamp: string | null;
  kind: 'write' | 'decision';
  decision: DecisionKind | null;
  outcome: string | null;
  origin: DecisionOrigin | null;
  prev_hash: string;
  hash: string;
  hash_version: HashVersion;
}

interface AnchorRow {
  seq: string;
  hash: string;
  signed_at: Date;
  key_id: string;
  signature: string;
}

function toEntry(r: EntryRow): StoredEntry {
  const common = {
    seq: Number(r.seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    hashVersion: r.hash_version,
    time: r.time.toISOString(),
    object: r.object,
    batchId: r.batch_id,
    actor: r.actor,
    writeId: r.write_id,
    ...present({ reason: r.reason, workflowId: r.workflow_id, sourceTimestamp: r.source_timestamp }),
  };
  if (r.kind === 'decision')
    return {
      ...common,
      kind: 'decision',
      ...present({ recordId: r.record_id }),
      decision: r.decision!,
      outcome: r.outcome!,
      values: r.new_value as FieldValues,
      origin: r.origin!,
    };
  return {
    ...common,
    kind: 'write',
    recordId: r.record_id!,
    field: r.field!,
    oldValue: r.old_value,
    newValue: r.new_value as FieldValue,
  };
}

const toAnchor = (r: AnchorRow): AuditAnchor => ({
  seq: Number(r.seq),
  hash: r.hash,
  signedAt: r.signed_at.toISOString(),
  keyId: r.key_id,
  signature: r.signature,
});

export interface EntryFilter {
  recordId?: string;
  batchId?: string;
  /** From this time (inclusive) to that one (exclusive), ISO 8601. */
  from?: string;
  to?: string;
  kind?: AuditEntry['kind'];
}

/** What `verify` found: the entries that chain, the anchors checked, and every problem, each in one sentence. */
export interface VerifyResult {
  entries: number;
  /** The newest anchor that verified: the trail up to it is the one signed. */
  anchoredTo?: AuditAnchor;
  anchors: number;
  problems: string[];
}

/**
 * The audit trail: an append-only table (a trigger refuses UPDATE, DELETE and TRUNCATE; the workers' role may only
 * INSERT and SELECT), one row per field written or decision taken, each chained to the one before by hash, with
 * signed heads (anchors) that show a rewrite even when the chain was recomputed.
 */
export class AuditTrail {
  constructor(private readonly db: Session) {}

  /**
   * Appends writes' or decisions' entries (in the store's unit of work when called in one), each under its own
   * `writeId` or the one given. Each is audited once: entries their write already has (a retried or zombie attempt)
   * are left out, and unique keys back that up.
   */
  async append(entries: AuditEntry[], writeId?: string): Promise<void> {
    if (entries.length) await this.db.transaction((tx) => appendChained(tx, entries, writeId));
  }

  /** Appends a decision (on a record or a whole batch), stamped now, once per `writeId`. */
  async appendDecision(
    d: Omit<DecisionEntry, 'kind' | 'time' | 'values'> & Partial<Pick<DecisionEntry, 'values'>>,
    writeId: string,
  ): Promise<void> {
    await this.append([{ values: {}, ...d, kind: 'decision', time: new Date().toISOString() }], writeId);
  }

  /** Signs the chain's head now and keeps a copy of the anchor (the copies that count are published by the caller). */
  async signHead(signer: AuditSigner, occasion: string): Promise<AuditAnchor> {
    return this.db.transaction(async (tx) => {
      // Under the chain lock: the head is an entry whose predecessors are all written.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
      const { rows } = await tx.query<{ seq: string; hash: string }>(
        'SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1',
      );
      const anchor = signer.sign({ seq: Number(rows[0]?.seq ?? 0), hash: rows[0]?.hash ?? GENESIS });
      await tx.query(
        `INSERT INTO audit_anchors (signature, seq, hash, signed_at, key_id, occasion) VALUES ($1, $2, $3, $4, $5, $6)`,
        [anchor.signature, anchor.seq, anchor.hash, anchor.signedAt, anchor.keyId, occasion],
      );
      return anchor;
    });
  }

  /** The entries of one record or one batch (or all), oldest first, within a time range when given. */
  async read(filter: EntryFilter = {}): Promise<StoredEntry[]> {
    // Only the conditions given, so that each can use its index.
    const where: string[] = [];
    const params: string[] = [];
    for (const [condition, value] of [
      ['record_id =', filter.recordId],
      ['batch_id =', filter.batchId],
      ['time >=', filter.from],
      ['time <', filter.to],
      ['kind =', filter.kind],
    ] as const)
      if (value !== undefined) where.push(`${condition} $${params.push(value)}`);
    const { rows } = await this.db.query<EntryRow>(
      `SELECT * FROM audit_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`,
      params,
    );
    return rows.map(toEntry);
  }

  /** The values written (no decisions), as `read` filters them. */
  async writes(filter: Omit<EntryFilter, 'kind'> = {}): Promise<(StoredEntry & WriteEntry)[]> {
    return (await this.read({ ...filter, kind: 'write' })) as (StoredEntry & WriteEntry)[];
  }

  /**
   * What one batch wrote to each record (its page writes, its record workflows' and operators' forced ones): per
   * record, each field's value before the batch's first write and after its last, a page of records at a time.
   */
  async *writtenBy(batchId: string, records?: string[]): AsyncGenerator<BatchWrite> {
    for (let after = ''; ;) {
      const { rows } = await this.db.query<{ record_id: string; before: FieldValues; after: FieldValues }>(
        `WITH page AS (
           SELECT DISTINCT record_id FROM audit_entries
           WHERE batch_id = $1 AND kind = 'write' AND record_id > $2 AND ($3::text[] IS NULL OR record_id = ANY($3))
           ORDER BY record_id LIMIT $4),
         fields AS (
           SELECT e.record_id, e.field, (array_agg(e.old_value ORDER BY e.seq))[1] AS before,
             (array_agg(e.new_value ORDER BY e.seq DESC))[1] AS after
           FROM audit_entries e JOIN page USING (record_id)
           WHERE e.batch_id = $1 AND e.kind = 'write' GROUP BY e.record_id, e.field)
         SELECT record_id, jsonb_object_agg(field, before) AS before, jsonb_object_agg(field, after) AS after
         FROM fields GROUP BY record_id ORDER BY record_id`,
        [batchId, after, records ?? null, WRITTEN_PAGE],
      );
      for (const r of rows) yield { recordId: r.record_id, before: r.before, after: r.after };
      if (rows.length < WRITTEN_PAGE) return;
      after = rows[rows.length - 1].record_id;
    }
  }

  /** The anchors kept in the store, oldest first. */
  async anchors(): Promise<AuditAnchor[]> {
    const { rows } = await this.db.query<AnchorRow>('SELECT * FROM audit_anchors ORDER BY seq, signed_at');
    return rows.map(toAnchor);
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
       WHERE object = $1 AND record_id = $2 AND field = ANY($3) AND time >= $4 AND kind = 'write'
       ORDER BY field, seq DESC`,
      [object, recordId, fields, since],
    );
    return Object.fromEntries(
      rows.map((r) => [r.field, { value: r.new_value, sourceTimestamp: r.source_timestamp ?? undefined }]),
    );
  }

  /**
   * Recomputes the chain from the first entry and checks it against every anchor: those kept in the store and those
   * given (from report files, Temporal, alerts), with the public keys. Names each problem: an entry changed or
   * removed (the chain), a rewrite with the chain recomputed or a cut tail (an anchor the trail no longer matches
   * or reaches), an anchor that does not verify.
   */
  async verify(options: { publicKeys?: KeyObject[]; anchors?: AuditAnchor[] } = {}): Promise<VerifyResult> {
    const problems: string[] = [];
    const anchors = new Map<string, AuditAnchor>();
    // The same anchor from several places counts once; one that differs in any part is another anchor.
    for (const a of [...(await this.anchors()), ...(options.anchors ?? [])])
      anchors.set([a.seq, a.hash, a.signedAt, a.keyId, a.signature].join('/'), a);
    const trusted = [...anchors.values()].filter((a) => {
      const problem = anchorProblem(a, options.publicKeys ?? []);
      if (problem) problems.push(`the anchor at entry ${a.seq} signed ${a.signedAt} cannot be trusted: ${problem}`);
      return !problem;
    });
    const anchoredHashes = new Map(trusted.map((a) => [a.seq, undefined as string | undefined]));

    let prev = GENESIS;
    let entries = 0;
    let chainBroken = false;
    const page = async (after: number) => {
      const { rows } = await this.db.query<EntryRow>(
        'SELECT * FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, VERIFY_PAGE],
      );
      return rows.map(toEntry);
    };
    for await (const e of inPages(VERIFY_PAGE, page, (entry) => entry.seq)) {
      if (anchoredHashes.has(e.seq)) anchoredHashes.set(e.seq, e.hash);
      if (chainBroken) continue;
      const problem =
        e.prevHash !== prev
          ? 'its link to the entry before does not match (an entry was removed or inserted)'
          : entryHash(prev, e, e.hashVersion) !== e.hash
            ? 'its content does not match its hash (it was changed)'
            : undefined;
      if (problem) {
        const what = e.kind === 'write' ? `${e.recordId} ${e.field}` : `${e.decision} ${e.recordId ?? e.batchId}`;
        problems.push(`entry ${e.seq} (${what}): ${problem}; the ${entries} entries before it verify`);
        chainBroken = true;
        continue;
      }
      prev = e.hash;
      entries++;
    }

    let anchoredTo: AuditAnchor | undefined;
    for (const a of trusted.sort((x, y) => x.seq - y.seq)) {
      const found = a.seq === 0 ? GENESIS : anchoredHashes.get(a.seq);
      if (found === undefined)
        problems.push(
          `entry ${a.seq}, the head signed ${a.signedAt}, is gone: the trail was cut after it or the entry deleted`,
        );
      else if (found !== a.hash)
        problems.push(
          `the trail up to entry ${a.seq} is not the one signed ${a.signedAt}: an entry at or before it was rewritten and the chain recomputed`,
        );
      else anchoredTo = a;
    }
    return { entries, anchors: trusted.length, ...(anchoredTo ? { anchoredTo } : {}), problems };
  }
}

async function appendChained(db: Session, entries: AuditEntry[], writeId?: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  const keyOf = (write: string, recordId: string | null | undefined, field: string | null | undefined) =>
    `${write}|${recordId ?? ''}/${field ?? '(decision)'}`;
  const withIds = entries.map((e) => {
    const id = e.writeId ?? writeId;
    if (!id) throw new Error('an audit entry needs the write it belongs to');
    return { ...e, writeId: id, time: new Date(e.time).toISOString() };
  });
  const { rows: done } = await db.query<{ write_id: string; record_id: string | null; field: string | null }>(
    'SELECT write_id, record_id, field FROM audit_entries WHERE write_id = ANY($1)',
    [[...new Set(withIds.map((e) => e.writeId))]],
  );
  const audited = new Set(done.map((r) => keyOf(r.write_id, r.record_id, r.field)));
  // Entries their write already has are left out, and so is a second copy in this call: each key is hashed once.
  const fresh = withIds.filter((e) => {
    const key = keyOf(e.writeId, e.recordId, e.kind === 'write' ? e.field : undefined);
    if (audited.has(key)) return false;
    audited.add(key);
    return true;
  });
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
  const column = (f: (e: (typeof fresh)[number]) => unknown) => fresh.map((e) => f(e) ?? null);
  const write = (e: AuditEntry) => (e.kind === 'write' ? e : undefined);
  const decision = (e: AuditEntry) => (e.kind === 'decision' ? e : undefined);
  await db.query(
    `INSERT INTO audit_entries (time, object, record_id, field, old_value, new_value, batch_id, actor, reason,
       workflow_id, write_id, source_timestamp, kind, decision, outcome, origin, prev_hash, hash, hash_version)
     SELECT t, o, r, f, ov, nv, b, a, rs, w, wr, st, k, d, oc, og, ph, h, $19
     FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
       $16::jsonb[], $17::text[], $18::text[])
       WITH ORDINALITY AS x(t, o, r, f, ov, nv, b, a, rs, w, wr, st, k, d, oc, og, ph, h, n)
     ORDER BY n
     ON CONFLICT DO NOTHING`,
    [
      column((e) => e.time),
      column((e) => e.object),
      column((e) => e.recordId),
      column((e) => write(e)?.field),
      column((e) => JSON.stringify(write(e)?.oldValue ?? null)),
      column((e) => JSON.stringify(write(e)?.newValue ?? decision(e)?.values ?? null)),
      column((e) => e.batchId),
      column((e) => e.actor),
      column((e) => e.reason),
      column((e) => e.workflowId),
      column((e) => e.writeId),
      column((e) => e.sourceTimestamp),
      column((e) => e.kind),
      column((e) => decision(e)?.decision),
      column((e) => decision(e)?.outcome),
      column((e) => (decision(e) ? JSON.stringify(decision(e)!.origin) : null)),
      prevHashes,
      hashes,
      HASH_VERSION,
    ],
  );
}
