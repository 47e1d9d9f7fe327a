import type { Session } from './session';
import type { Alert, AlertChannel } from '../alerts/alert-channel';

/**
 * Alerts already sent, by key, in the store: an activity retried after its alert went out, or run again on another
 * worker, does not send it a second time. (An attempt that dies between sending and noting sends it again: an alert
 * twice beats an alert lost.)
 */
export class SentAlerts {
  constructor(private readonly db: Session) {}

  async sendOnce(key: string, channel: AlertChannel, alert: Alert): Promise<void> {
    const { rowCount } = await this.db.query('SELECT 1 FROM sent_alerts WHERE alert_key = $1', [key]);
    if (rowCount) return;
    await channel.send(alert);
    await this.db.query('INSERT INTO sent_alerts (alert_key) VALUES ($1) ON CONFLICT DO NOTHING', [key]);
  }
}
