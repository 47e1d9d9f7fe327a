import { WATCHER_HEALTHY_TICKS, WATCHER_SLACK_SECONDS } from '../contracts/lock-watch';
import type { Session } from './session';

/** An object's lock watcher as the store last saw it: its last tick, and whether that is recent. */
export interface WatcherStatus {
  tickedAt: string;
  waiting: number;
  told: number;
  current: boolean;
}

/** A waiting record as the store lists it for its object's lock watcher. */
export interface WaitingRecordRow {
  recordId: string;
  workflowId: string;
  /** The Vault state the watcher last told the record (or the batch saw locked when it handed it over); else none. */
  toldState?: string;
}

/** What the watcher read of one record this tick; `told` where it told the record (a change); `unlock`, of an unlock. */
export interface WatcherRead {
  recordId: string;
  state?: string;
  told?: string;
  unlock?: boolean;
}

/** A record told of an unlock that still waits: how long ago the watcher told it. */
export interface UnlockInFlight {
  recordId: string;
  toldMsAgo: number;
}

/** How far a worker's clock may be from the store's: a tell is taken as made this much earlier than it says. */
const CLOCK_SLACK_MS = 5_000;

/** In noteReads: nothing told to note, or a write refused as locked took the tell back since it was made ($6). */
const TAKEN_BACK = 'EXCLUDED.told_state IS NULL OR watched_records.untold_at >= $6';

/** A waiting row of the object's (`$1`) record `id`, in a record workflow that has not settled it. */
const STILL_WAITING = (id: string) =>
  `SELECT 1 FROM batch_rows r JOIN batches b ON b.batch_id = r.batch_id AND b.object = $1
   WHERE r.record_id = ${id} AND r.outcome = 'waiting' AND r.resolution IS NULL`;

/**
 * Each object's lock watcher in the store: its last tick, and per waiting record the tick that last read it and the
 * state it last told the record. A waiting record reads Vault itself only when the watcher has not read it lately.
 */
export class LockWatchers {
  constructor(private readonly db: Session) {}

  /** Notes a tick done: how many records waited and how many the watcher told. */
  async ticked(object: string, tickSeconds: number, waiting: number, told: number): Promise<void> {
    await this.db.query(
      `INSERT INTO lock_watchers (object, ticked_at, tick_seconds, waiting, told) VALUES ($1, now(), $2, $3, $4)
       ON CONFLICT (object) DO UPDATE SET ticked_at = now(), tick_seconds = $2, waiting = $3, told = $4`,
      [object, tickSeconds, waiting, told],
    );
  }

  /** The object's watcher's last tick, and whether it is recent (within its last few intervals). */
  async last(object: string): Promise<WatcherStatus | undefined> {
    const { rows } = await this.db.query<{ ticked_at: Date; waiting: number; told: number; current: boolean }>(
      `SELECT ticked_at, waiting, told, ticked_at > now() - make_interval(secs => tick_seconds * $2 + $3) AS current
       FROM lock_watchers WHERE object = $1`,
      [object, WATCHER_HEALTHY_TICKS, WATCHER_SLACK_SECONDS],
    );
    const r = rows[0];
    return r && { tickedAt: r.ticked_at.toISOString(), waiting: r.waiting, told: r.told, current: r.current };
  }

  /** Whether the object's watcher ticks: it will read the records handed to it. */
  async covers(object: string): Promise<boolean> {
    return (await this.last(object))?.current ?? false;
  }

  /**
   * The object's records waiting in a record workflow, from their batch rows (not from Temporal's visibility, which
   * lags and may miss one), ordered by id: the page after `after`, each with its latest batch's row. The page's ids
   * come first, walking the waiting rows' index from `after`, so that a page costs its own rows. The object's
   * batches go in as an array: joined, they led the planner to scan and sort every waiting row for each page (1.3 to
   * 1.7 s a page at 200,000 waiting).
   */
  async waitingPage(object: string, after: string, limit: number): Promise<WaitingRecordRow[]> {
    const { rows } = await this.db.query<{ record_id: string; workflow_id: string; told_state: string | null }>(
      `WITH page AS (
         SELECT DISTINCT record_id FROM batch_rows
         WHERE outcome = 'waiting' AND resolution IS NULL AND record_id > $2
           AND batch_id = ANY (ARRAY(SELECT batch_id FROM batches WHERE object = $1))
         ORDER BY record_id LIMIT $3)
       SELECT DISTINCT ON (r.record_id) r.record_id, r.workflow_id, w.told_state
       FROM page JOIN batch_rows r ON r.record_id = page.record_id AND r.outcome = 'waiting' AND r.resolution IS NULL
       JOIN batches b ON b.batch_id = r.batch_id AND b.object = $1
       LEFT JOIN watched_records w ON w.object = b.object AND w.record_id = r.record_id
       ORDER BY r.record_id, b.created_at DESC`,
      [object, after, limit],
    );
    return rows.map((r) => ({
      recordId: r.record_id,
      workflowId: r.workflow_id,
      ...(r.told_state === null ? {} : { toldState: r.told_state }),
    }));
  }

  /** The records told of an unlock within the last `ms` that still wait (a tick's or an attempt's before this one). */
  async unlocksInFlight(object: string, ms: number): Promise<UnlockInFlight[]> {
    const { rows } = await this.db.query<{ record_id: string; told_ms_ago: number }>(
      `SELECT w.record_id, (extract(epoch FROM now() - w.unlock_told_at) * 1000)::int AS told_ms_ago
       FROM watched_records w
       WHERE w.object = $1 AND w.unlock_told_at > now() - make_interval(secs => $2 / 1000.0)
         AND EXISTS (${STILL_WAITING('w.record_id')})`,
      [object, ms],
    );
    return rows.map((r) => ({ recordId: r.record_id, toldMsAgo: r.told_ms_ago }));
  }

  /** Of these records, those still waiting in a record workflow: the others' workflows have settled their rows. */
  async stillWaiting(object: string, recordIds: string[]): Promise<string[]> {
    if (!recordIds.length) return [];
    const { rows } = await this.db.query<{ record_id: string }>(
      `SELECT x.id AS record_id FROM unnest($2::text[]) AS x(id) WHERE EXISTS (${STILL_WAITING('x.id')})`,
      [object, recordIds],
    );
    return rows.map((r) => r.record_id);
  }

  /**
   * Notes this tick's reads of records (one statement for them all): when, what state, and what was told. A record
   * whose workflow settled since it was listed is left out: its row, forgotten, would stay forever. A tell made from
   * `toldSince` on is not noted where a write refused as locked took it back since (`untell`): the next tick tells
   * the record again.
   */
  async noteReads(object: string, reads: WatcherRead[], toldSince = new Date()): Promise<void> {
    if (!reads.length) return;
    await this.db.query(
      `INSERT INTO watched_records (object, record_id, read_at, vault_state, told_state, unlock_told_at)
       SELECT $1, r, now(), s, t, CASE WHEN u THEN now() END
       FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[]) AS x(r, s, t, u)
       WHERE EXISTS (${STILL_WAITING('x.r')})
       ON CONFLICT (object, record_id) DO UPDATE SET read_at = now(), vault_state = EXCLUDED.vault_state,
         told_state = CASE WHEN ${TAKEN_BACK} THEN watched_records.told_state ELSE EXCLUDED.told_state END,
         unlock_told_at = CASE WHEN ${TAKEN_BACK} THEN watched_records.unlock_told_at ELSE EXCLUDED.unlock_told_at END`,
      [
        object,
        reads.map((r) => r.recordId),
        reads.map((r) => r.state ?? null),
        reads.map((r) => r.told ?? null),
        reads.map((r) => r.unlock ?? false),
        new Date(toldSince.getTime() - CLOCK_SLACK_MS),
      ],
    );
  }

  /**
   * Records a batch hands to their new workflows, as the batch read them: what was told before is not this
   * workflow's, so the watcher's word starts from the batch's (`told` where it read the record locked). Called after
   * the batch saved its rows as waiting, in the same transaction: a record whose workflow settled it already (it
   * took the values and ended first) is not watched, and a settle that comes later waits on the saved row's lock
   * until this commits, so the record's `forget` after it finds what this wrote.
   */
  async handedOver(object: string, reads: WatcherRead[]): Promise<void> {
    if (!reads.length) return;
    await this.db.query(
      `INSERT INTO watched_records (object, record_id, read_at, vault_state, told_state)
       SELECT $1, r, now(), s, t FROM unnest($2::text[], $3::text[], $4::text[]) AS x(r, s, t)
       WHERE EXISTS (${STILL_WAITING('x.r')})
       ON CONFLICT (object, record_id) DO UPDATE SET read_at = now(), vault_state = EXCLUDED.vault_state,
         told_state = EXCLUDED.told_state, unlock_told_at = NULL, untold_at = NULL`,
      [object, reads.map((r) => r.recordId), reads.map((r) => r.state ?? null), reads.map((r) => r.told ?? null)],
    );
  }

  /** Whether the watcher read the record since the given time, and the record knows the state it read. */
  async readSince(object: string, recordId: string, since: Date): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM watched_records
       WHERE object = $1 AND record_id = $2 AND read_at >= $3 AND told_state IS NOT DISTINCT FROM vault_state`,
      [object, recordId, since],
    );
    return rows.length > 0;
  }

  /**
   * Records whose write Vault refused as locked though they read unlocked: the watcher tells them again at its next
   * tick (it tells only a state other than the one it told), so that they try again a tick later.
   */
  async untell(object: string, recordIds: string[]): Promise<void> {
    if (!recordIds.length) return;
    await this.db.query(
      `UPDATE watched_records SET told_state = NULL, unlock_told_at = NULL, untold_at = now()
       WHERE object = $1 AND record_id = ANY($2)`,
      [object, recordIds],
    );
  }

  /** A record whose workflow ended: the watcher no longer tracks it. */
  async forget(object: string, recordId: string): Promise<void> {
    await this.db.query('DELETE FROM watched_records WHERE object = $1 AND record_id = $2', [object, recordId]);
  }
}
