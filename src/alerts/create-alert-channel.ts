import type { AppConfig } from '../config';
import type { Logger } from '../observability/logger';
import { AlertChannel, LogAlertChannel } from './alert-channel';
import { WebhookAlertChannel } from './webhook-channel';

export function createAlertChannel(config: AppConfig['alerts'], logger: Logger): AlertChannel {
  return config.channel === 'webhook' && config.webhookUrl
    ? new WebhookAlertChannel(config.webhookUrl)
    : new LogAlertChannel(logger);
}
