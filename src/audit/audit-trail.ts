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
    const lines = entries.map((e) => JSON.stringify({ ...e, writeId: write.id }));
    await fs.promises.appendFile(this.fileOf(entries[0].time), lines.join('\n') + '\n');
  }

  /** Every entry, or those of the months from `since` (an ISO time) on. */
  async read(since = ''): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const line of this.lines(since)) entries.push(JSON.parse(line));
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
    for await (const line of this.lines(since)) {
      if (!line.includes(needle)) continue;
      const e = JSON.parse(line) as AuditEntry;
      if (e.object !== object || e.recordId !== recordId || !wanted.has(e.field) || e.time < since) continue;
      if (!latest[e.field] || e.time >= latest[e.field].time) latest[e.field] = e;
    }
    return Object.fromEntries(
      Object.entries(latest).map(([field, e]) => [field, { value: e.newValue, sourceTimestamp: e.sourceTimestamp }]),
    );
  }

  /** The trail's lines, oldest month first, from the month of `since` on. */
  private async *lines(since: string): AsyncGenerator<string> {
    if (!fs.existsSync(this.dir)) return;
    const first = path.basename(this.fileOf(since));
    const files = (await fs.promises.readdir(this.dir)).filter((f) => f.endsWith('.jsonl') && f >= first).sort();
    for (const f of files) {
      const input = fs.createReadStream(path.join(this.dir, f));
      for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) if (line) yield line;
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
    for (const file of [this.fileOf(time), this.fileOf(lastMonth)]) {
      const text = await fs.promises.readFile(file, 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.includes(needle)) continue;
        const e = JSON.parse(line) as AuditEntry;
        done.add(`${e.recordId}/${e.field}`);
      }
    }
    return done;
  }
}
