import type { Alert } from '../alerts/alert-channel';
import type { AlertQueue, ClaimedAlert } from '../alerts/alert-delivery';
import { type ChannelSpec, channelKey } from '../alerts/channel-spec';
import type { Session } from './session';

/**
 * Alerts to deliver, in the store: an activity enqueues an alert and goes on (no channel is waited on), and every
 * worker's delivery loop (alerts/alert-delivery.ts) claims the due ones, sends them and notes the outcome here.
 * Delivery is at least once: a worker that dies between sending and noting leaves the alert to be sent again.
 */
export class AlertOutbox implements AlertQueue {
  constructor(private readonly db: Session) {}

  /**
   * One row per channel, in one statement. A key already enqueued for a channel, by any worker at any time, is not
   * added again: an activity retried, or run again elsewhere, alerts once.
   */
  async enqueue(key: string, channels: ChannelSpec[], alert: Alert): Promise<void> {
    if (!channels.length) return;
    await this.db.query(
      `INSERT INTO alert_outbox (alert_key, channel, spec, alert)
       SELECT $1::text, channel, spec, $4::json FROM unnest($2::text[], $3::json[]) AS c(channel, spec)
       ON CONFLICT (alert_key, channel) DO NOTHING`,
      [key, channels.map(channelKey), channels.map((c) => JSON.stringify(c)), JSON.stringify(alert)],
    );
  }

  /**
   * Takes up to `limit` due alerts for `leaseMs`: until then no other loop takes them (SKIP LOCKED: two loops
   * claiming at once take different rows). Each claim starts an attempt.
   */
  async claimDue(
    limit: number,
    leaseMs: number,
    busy: { channels: string[]; kinds: string[] } = { channels: [], kinds: [] },
  ): Promise<ClaimedAlert[]> {
    const { rows } = await this.db.query<{
      id: string;
      alert_key: string;
      spec: ChannelSpec;
      alert: Alert;
      attempts: number;
      age_ms: number;
    }>(
      `UPDATE alert_outbox o
       SET attempts = o.attempts + 1, due_at = now() + $2 * interval '1 millisecond'
       FROM (
         SELECT id FROM alert_outbox WHERE status = 'pending' AND due_at <= now()
           AND channel <> ALL($3::text[]) AND spec ->> 'kind' <> ALL($4::text[])
         ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ) due
       WHERE o.id = due.id
       RETURNING o.id, o.alert_key, o.spec, o.alert, o.attempts,
         (extract(epoch FROM now() - o.created_at) * 1000)::float8 AS age_ms`,
      [limit, leaseMs, busy.channels, busy.kinds],
    );
    return rows.map((r) => ({
      id: r.id,
      key: r.alert_key,
      spec: r.spec,
      alert: r.alert,
      attempt: r.attempts,
      ageMs: r.age_ms,
    }));
  }

  /** Delivered, whichever attempt did it: a later attempt still sending will not change that. */
  async delivered(claim: ClaimedAlert): Promise<void> {
    await this.db.query(
      `UPDATE alert_outbox SET status = 'delivered', settled_at = now() WHERE id = $1 AND status = 'pending'`,
      [claim.id],
    );
  }

  /** This attempt failed: the alert is due again in `delayMs`, unless a later attempt has taken it over. */
  async retryLater(claim: ClaimedAlert, error: string, delayMs: number): Promise<void> {
    await this.db.query(
      `UPDATE alert_outbox SET due_at = now() + $3 * interval '1 millisecond', last_error = $4
       WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [claim.id, claim.attempt, delayMs, error],
    );
  }

  /** This attempt failed for the last time; false if a later attempt has taken the alert over (it decides). */
  async giveUp(claim: ClaimedAlert, error: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE alert_outbox SET status = 'given-up', settled_at = now(), last_error = $3
       WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [claim.id, claim.attempt, error],
    );
    return rowCount === 1;
  }
}
