import type { Logger } from '../observability/logger';
import { AlertChannel, LogAlertChannel } from './alert-channel';
import { WebhookAlertChannel } from './webhook-channel';

/** Where alerts go: the log, or one webhook (CAPA_ALERT_CHANNEL, ALERT_WEBHOOK_URL). */
export interface AlertSettings {
  channel: 'log' | 'webhook';
  webhookUrl?: string;
}

export function createAlertChannel(config: AlertSettings, logger: Logger): AlertChannel {
  return config.channel === 'webhook' && config.webhookUrl
    ? new WebhookAlertChannel(config.webhookUrl)
    : new LogAlertChannel(logger);
}
