import fs from 'node:fs';
import path from 'node:path';
import type { FieldValue } from '../vault/types';

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
}

/** Append-only JSON Lines audit trail, one file per month, for the quality team's records. */
export class AuditTrail {
  constructor(private readonly dir: string) {}

  async append(entries: AuditEntry[]): Promise<void> {
    if (!entries.length) return;
    await fs.promises.mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `audit-${entries[0].time.slice(0, 7)}.jsonl`);
    await fs.promises.appendFile(file, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  async read(): Promise<AuditEntry[]> {
    if (!fs.existsSync(this.dir)) return [];
    const files = (await fs.promises.readdir(this.dir)).filter((f) => f.endsWith('.jsonl')).sort();
    const lines = await Promise.all(files.map((f) => fs.promises.readFile(path.join(this.dir, f), 'utf8')));
    return lines.flatMap((text) =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEntry),
    );
  }
}
