import type { FieldValues } from '../contracts/field-values';
import type { Session } from './session';

/** A record workflow's write as it is about to be sent: what it writes, and what Vault held just before. */
export interface WriteIntent {
  writeId: string;
  /** The activity attempt sending it: an older attempt (a zombie process) no longer may. */
  attempt: number;
  recordId: string;
  values: FieldValues;
  before: FieldValues;
}

/** An intent an earlier attempt left: what it sent, and what Vault held before. */
export interface PendingIntent {
  values: FieldValues;
  before: FieldValues;
}

/** How long a settled intent, or a retry's note, stays to fence older attempts. */
const KEEP_SETTLED_DAYS = 31;

/**
 * Writes saved before they are sent, so that every write Vault took is audited exactly once: a process that dies
 * between the bulk update and the audit leaves its intent here, and the retry (same write id) audits the change
 * with the values Vault held before the first attempt, not with what it reads now (our own values).
 */
export class WriteIntents {
  constructor(private readonly db: Session) {}

  /**
   * Notes retries (attempts after the first) before they read Vault: from then on no older attempt of the same write
   * may claim it, whatever this one then does. A first attempt needs no note: nothing older exists.
   */
  async enter(attempts: Array<{ writeId: string; attempt: number }>): Promise<void> {
    const retries = attempts.filter((a) => a.attempt > 1);
    if (!retries.length) return;
    await this.db.query(
      `INSERT INTO write_attempts (write_id, attempt) SELECT * FROM unnest($1::text[], $2::int[])
       ON CONFLICT (write_id) DO UPDATE SET attempt = EXCLUDED.attempt, entered_at = now()
         WHERE write_attempts.attempt < EXCLUDED.attempt`,
      [retries.map((a) => a.writeId), retries.map((a) => a.attempt)],
    );
  }

  /**
   * Saves the intents (one statement) and returns the write ids this attempt may send. An intent a later attempt
   * already entered or claimed is left out: its sender is a zombie.
   */
  async claim(intents: WriteIntent[]): Promise<Set<string>> {
    if (!intents.length) return new Set();
    const { rows } = await this.db.query<{ write_id: string }>(
      `INSERT INTO write_intents (write_id, attempt, record_id, field_values, values_before)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::jsonb[], $5::jsonb[]) AS x(w, a, r, v, b)
       WHERE NOT EXISTS (SELECT 1 FROM write_attempts e WHERE e.write_id = x.w AND e.attempt > x.a)
       ON CONFLICT (write_id) DO UPDATE SET attempt = EXCLUDED.attempt, field_values = EXCLUDED.field_values,
         -- Once settled, a later attempt's write is a new one: what Vault held before it is what it read.
         values_before = CASE WHEN write_intents.settled_at IS NULL THEN write_intents.values_before
           ELSE EXCLUDED.values_before END,
         settled_at = NULL
         WHERE write_intents.attempt <= EXCLUDED.attempt
       RETURNING write_id`,
      [
        intents.map((i) => i.writeId),
        intents.map((i) => i.attempt),
        intents.map((i) => i.recordId),
        intents.map((i) => JSON.stringify(i.values)),
        intents.map((i) => JSON.stringify(i.before)),
      ],
    );
    return new Set(rows.map((r) => r.write_id));
  }

  /** The intents earlier attempts of these writes left (their answer never came back): what they sent, and before. */
  async pending(writeIds: string[]): Promise<Map<string, PendingIntent>> {
    if (!writeIds.length) return new Map();
    const { rows } = await this.db.query<{ write_id: string; field_values: FieldValues; values_before: FieldValues }>(
      'SELECT write_id, field_values, values_before FROM write_intents WHERE write_id = ANY($1) AND settled_at IS NULL',
      [writeIds],
    );
    return new Map(rows.map((r) => [r.write_id, { values: r.field_values, before: r.values_before }]));
  }

  /**
   * The writes are settled (audited where Vault took them, or refused): their intents are marked so, and fence older
   * attempts for `KEEP_SETTLED_DAYS` (a record waits 30 days at most), then go, a thousand at a time.
   */
  async settle(writeIds: string[]): Promise<void> {
    if (!writeIds.length) return;
    await this.db.query('UPDATE write_intents SET settled_at = now() WHERE write_id = ANY($1)', [writeIds]);
    await this.db.query(
      `WITH intents AS (DELETE FROM write_intents WHERE write_id IN (SELECT write_id FROM write_intents
         WHERE settled_at < now() - make_interval(days => $1) LIMIT 1000))
       DELETE FROM write_attempts WHERE write_id IN (SELECT write_id FROM write_attempts
         WHERE entered_at < now() - make_interval(days => $1) LIMIT 1000)`,
      [KEEP_SETTLED_DAYS],
    );
  }
}
