import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditEntry } from './audit-entry';

/**
 * How an audit entry's hash is computed, by version (stored with each entry, so that trails written before a change
 * still verify):
 * - 2 (today): sha256 of the previous entry's hash followed by the entry's content (hashedContent) as RFC 8785
 *   canonical JSON, the JSON Canonicalization Scheme an auditor's tools implement;
 * - 1 (entries written before 2): the same fields as a JSON array, object keys sorted by hand.
 */
export type HashVersion = 1 | 2;
export const HASH_VERSION: HashVersion = 2;

/** The fields an entry's hash covers, named as the audit export's columns are. */
const HASHED_FIELDS = [
  'time',
  'kind',
  'object',
  'record_id',
  'field',
  'old_value',
  'new_value',
  'batch_id',
  'actor',
  'reason',
  'workflow_id',
  'write_id',
  'source_timestamp',
  'decision',
  'outcome',
  'origin',
] as const;
export type HashedField = (typeof HASHED_FIELDS)[number];

/** What an entry's hash covers, by field; absent ones are null. */
export function hashedContent(e: AuditEntry): Record<HashedField, unknown> {
  const write = e.kind === 'write' ? e : undefined;
  const decision = e.kind === 'decision' ? e : undefined;
  return {
    time: e.time,
    kind: e.kind,
    object: e.object,
    record_id: e.recordId ?? null,
    field: write?.field ?? null,
    old_value: write?.oldValue ?? null,
    new_value: write ? write.newValue : decision!.values,
    batch_id: e.batchId,
    actor: e.actor,
    reason: e.reason ?? null,
    workflow_id: e.workflowId ?? null,
    write_id: e.writeId ?? null,
    source_timestamp: e.sourceTimestamp ?? null,
    decision: decision?.decision ?? null,
    outcome: decision?.outcome ?? null,
    origin: decision?.origin ?? null,
  };
}

/** The text an entry's hash is computed over, after the previous hash. */
export function hashedText(e: AuditEntry, version: HashVersion = HASH_VERSION): string {
  return version === 2 ? canonicalContent(hashedContent(e)) : sortedJson(version1Content(e));
}

/** Each hashed field's `"name":`, in RFC 8785 order (by UTF-16 code units, as Array.prototype.sort orders strings). */
const SORTED_KEYS = [...HASHED_FIELDS].sort().map((key) => [key, `${JSON.stringify(key)}:`] as const);

/**
 * The RFC 8785 text of an entry's content, as canonicalize writes it: its values are canonicalize's own, and its
 * fields are joined at once. Left to canonicalize, the top level's concatenations allocated several times the text
 * for each entry, a batch page's garbage collection.
 */
export function canonicalContent(content: Record<HashedField, unknown>): string {
  const parts: string[] = [];
  for (const [key, name] of SORTED_KEYS) {
    const value = content[key];
    if (value !== undefined)
      parts.push(name + (typeof value === 'string' ? JSON.stringify(value) : canonicalize(value)));
  }
  return `{${parts.join(',')}}`;
}

/**
 * An entry's hash: its content and the hash of the entry before, so that no entry changes or goes unseen. The
 * algorithm is public (an auditor recomputes it): the chain alone shows accidents, the signed heads show forgeries.
 */
export function entryHash(prevHash: string, e: AuditEntry, version: HashVersion = HASH_VERSION): string {
  return createHash('sha256').update(prevHash).update(hashedText(e, version)).digest('hex');
}

/** Version 1's content: the fields in a fixed order. */
function version1Content(e: AuditEntry): unknown[] {
  const c = hashedContent(e);
  return [
    ...[c.time, c.object, c.record_id, c.field, c.old_value, c.new_value, c.batch_id, c.actor, c.reason],
    ...[c.workflow_id, c.write_id, c.source_timestamp, c.kind, c.decision, c.outcome, c.origin],
  ];
}

/** Version 1's JSON: object keys sorted, written by hand before the project took RFC 8785. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}
