import { hashedContent, hashedText } from '../store/entry-hash';
import fs from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { describeOrigin } from '../contracts/decisions';
import { csvCell } from '../reports/batch-report';
import type { AuditTrail, StoredEntry, VerifyResult } from '../store/audit-trail';
import type { AuditAnchor } from '../contracts/audit-anchor';
import { readPublicKey } from '../audit/signing-key';

/** An anchor as given to `audit verify --anchor`: its JSON, or a file holding it (or a report.json that carries it). */
export function anchorsFrom(given: string): AuditAnchor[] {
  const inline = given.trim().startsWith('{');
  const value = JSON.parse(inline ? given : fs.readFileSync(given, 'utf8')) as {
    auditAnchor?: AuditAnchor;
  } & Partial<AuditAnchor>;
  const anchor = value.auditAnchor ?? value;
  if (typeof anchor.signature !== 'string' || typeof anchor.seq !== 'number')
    throw new Error(`${inline ? 'the anchor given' : given}: not an audit anchor (seq, hash, signature)`);
  return [anchor as AuditAnchor];
}

/** The anchors in every report.json under a folder (the reports the finish step and `capa-sync report` write). */
export function anchorsInReports(dir: string): AuditAnchor[] {
  const found: AuditAnchor[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile() && entry.name === 'report.json') {
      const report = JSON.parse(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
      if (report.auditAnchor) found.push(report.auditAnchor);
    }
  return found;
}

/** The first readable key file among those that may hold the public key (a private key file holds it too). */
export function findPublicKeys(candidates: (string | undefined)[]): KeyObject[] {
  const file = candidates.find((f): f is string => !!f && fs.existsSync(f));
  return file ? [readPublicKey(file)] : [];
}

export function describeVerify(r: VerifyResult): string {
  const anchored = r.anchoredTo
    ? `signed heads checked: ${r.anchors}, the newest at entry ${r.anchoredTo.seq} (${r.anchoredTo.signedAt}); ${r.entries - r.anchoredTo.seq} entries after it are covered by the chain only`
    : `no signed head verified: a rewrite with the chain recomputed, or a cut tail, would go unseen`;
  if (!r.problems.length) return `Audit trail intact: ${r.entries} entries, hash chain verified; ${anchored}.`;
  return [
    `Audit trail NOT intact (${r.problems.length} problems):`,
    ...r.problems.map((p) => `  - ${p}`),
    anchored,
  ].join('\n');
}

/** One entry as the listing shows it: a write's change, or a decision and what it did. */
export function entryLine(e: StoredEntry) {
  const what =
    e.kind === 'write'
      ? `${e.field}: ${JSON.stringify(e.oldValue)} -> ${JSON.stringify(e.newValue)}`
      : `${e.decision} (${e.outcome}) of ${JSON.stringify(e.values)}`;
  const who = [e.actor, e.reason && `(${e.reason})`, e.kind === 'decision' && `from ${describeOrigin(e.origin)}`]
    .filter(Boolean)
    .join(' ');
  return { seq: e.seq, time: e.time, recordId: e.recordId ?? '', what, who, batchId: e.batchId };
}

const EXPORT_COLUMNS = [
  'seq',
  'time',
  'kind',
  'object',
  'record_id',
  'field',
  'old_value',
  'new_value',
  'decision',
  'outcome',
  'actor',
  'reason',
  'origin',
  'batch_id',
  'workflow_id',
  'write_id',
  'source_timestamp',
  'prev_hash',
  'hash',
  'hash_version',
  'hashed_content',
] as const;

/** One entry's export row: the fields its hash covers (as hashedContent names them), readable, and its place in the chain. */
function exportRow(e: StoredEntry): Record<(typeof EXPORT_COLUMNS)[number], unknown> {
  const content = hashedContent(e);
  return {
    seq: e.seq,
    ...content,
    old_value: e.kind === 'write' ? JSON.stringify(content.old_value) : undefined,
    new_value: JSON.stringify(content.new_value),
    origin: e.kind === 'decision' ? describeOrigin(e.origin) : undefined,
    prev_hash: e.prevHash,
    hash: e.hash,
    hash_version: e.hashVersion,
    // What the hash covers after prev_hash: sha256(prev_hash + hashed_content) is the hash (docs/operations.md,
    // "Recomputing one entry's hash by hand").
    hashed_content: hashedText(e, e.hashVersion),
  };
}

/**
 * An auditor's export: the entries in [from, to) (of one record, when given) as CSV, one line per entry, and beside
 * it `<file>.anchors.json`, the signed heads that cover them (those among the entries and the first after the last).
 */
export async function exportTrail(
  audit: AuditTrail,
  range: { from: string; to: string; recordId?: string },
  file: string,
): Promise<{ entries: number; anchors: number; files: string[] }> {
  const entries = await audit.read(range);
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const e of entries) lines.push(EXPORT_COLUMNS.map((c) => csvCell(exportRow(e)[c])).join(','));
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, lines.join('\r\n') + '\r\n');
  const first = entries[0]?.seq ?? Infinity;
  const last = entries[entries.length - 1]?.seq ?? -Infinity;
  const all = await audit.anchors();
  const covering = [
    ...all.filter((a) => a.seq >= first && a.seq <= last),
    ...all.filter((a) => a.seq > last).slice(0, 1),
  ];
  const anchorsFile = `${file}.anchors.json`;
  fs.writeFileSync(anchorsFile, JSON.stringify(covering, null, 1));
  return { entries: entries.length, anchors: covering.length, files: [path.resolve(file), path.resolve(anchorsFile)] };
}
