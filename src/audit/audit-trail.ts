import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { changedFields, type FieldValue, type FieldValues } from '../vault/types';

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

/** A value capa-sync itself wrote to a field, and when the risk system produced it. */
export interface OwnWrite {
  value: FieldValue;
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

/** Append-only JSON Lines audit trail, one file per month, for the quality team's records. */
export class AuditTrail {
  constructor(private readonly dir: string) {}

  /**
   * Appends one write's entries. A retried write may have been audited, wholly or in part, by an attempt that died
   * before finishing: entries already in this month's or last month's file for the same writeId are left out.
   */
  async append(entries: AuditEntry[], write: { id: string; retried: boolean }): Promise<void> {
    if (write.retried && entries.length) {
      const done = await this.auditedFields(write.id, entries[0].time);
      entries = entries.filter((e) => !done.has(`${e.recordId}/${e.field}`));
    }
    if (!entries.length) return;
    await fs.promises.mkdir(this.dir, { recursive: true });
    const file = this.fileOf(entries[0].time);
    const lines = entries.map((e) => JSON.stringify({ ...e, writeId: write.id }));
    // A worker killed in the middle of an append leaves a torn last line: it is closed off, and stays unreadable.
    const torn = !(await endsWithNewline(file));
    await fs.promises.appendFile(file, (torn ? '\n' : '') + lines.join('\n') + '\n');
  }

  /** Every entry, or those of the months from `since` (an ISO time) on. */
  async read(since = ''): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const e of this.entries(since)) entries.push(e);
    return entries;
  }

  /**
   * The newest value capa-sync wrote to each of the record's fields at or after `since` (fields it did not write
   * are absent). Streams the months from `since` line by line: only the record's own lines are parsed, none is kept.
   */
  async lastOwnWrites(
    object: string,
    recordId: string,
    fields: string[],
    since: string,
  ): Promise<Record<string, OwnWrite>> {
    const wanted = new Set(fields);
    const needle = `"recordId":${JSON.stringify(recordId)}`;
    const latest: Record<string, AuditEntry> = {};
    for await (const e of this.entries(since, needle)) {
      if (e.object !== object || e.recordId !== recordId || !wanted.has(e.field) || e.time < since) continue;
      if (!latest[e.field] || e.time >= latest[e.field].time) latest[e.field] = e;
    }
    return Object.fromEntries(
      Object.entries(latest).map(([field, e]) => [field, { value: e.newValue, sourceTimestamp: e.sourceTimestamp }]),
    );
  }

  /**
   * The trail's entries, oldest month first, from the month of `since` on; only lines holding `needle` are parsed.
   * A torn line (its append cut short by a crash) is passed over: the write's retry appended the whole entry.
   */
  private async *entries(since: string, needle = ''): AsyncGenerator<AuditEntry> {
    if (!fs.existsSync(this.dir)) return;
    const first = path.basename(this.fileOf(since));
    const files = (await fs.promises.readdir(this.dir)).filter((f) => f.endsWith('.jsonl') && f >= first).sort();
    for (const f of files) {
      const input = fs.createReadStream(path.join(this.dir, f));
      for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
        const entry = line.includes(needle) ? parseEntry(line) : undefined;
        if (entry) yield entry;
      }
    }
  }

  private fileOf(time: string): string {
    return path.join(this.dir, `audit-${time.slice(0, 7)}.jsonl`);
  }

  /** "recordId/field" of the entries the write already has in the trail. */
  private async auditedFields(writeId: string, time: string): Promise<Set<string>> {
    const month = new Date(time);
    const lastMonth = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() - 1, 1)).toISOString();
    const needle = `"writeId":${JSON.stringify(writeId)}`;
    const done = new Set<string>();
    for await (const e of this.entries(lastMonth, needle)) done.add(`${e.recordId}/${e.field}`);
    return done;
  }
}

function parseEntry(line: string): AuditEntry | undefined {
  try {
    return JSON.parse(line) as AuditEntry;
  } catch {
    return undefined;
  }
}

async function endsWithNewline(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r').catch(() => undefined);
  if (!handle) return true; // a new file
  try {
    const { size } = await handle.stat();
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    await handle.close();
  }
}
