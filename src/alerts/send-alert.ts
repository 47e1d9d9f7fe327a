import type { Logger } from '../observability/logger';
import { type Alert, LogAlertChannel } from './alert-channel';
import type { ChannelSpec, SmtpSettings } from './channel-spec';
import { EmailChannel } from './email-channel';
import { WebhookAlertChannel } from './webhook-channel';

/** An alert that no attempt can deliver as things are (an email channel with no SMTP server): giving up at once. */
export class UndeliverableAlert extends Error {}

export interface SendContext {
  smtp?: SmtpSettings;
  logger: Logger;
}

/**
 * One attempt to send the alert to the channel the spec names. A channel is made for each send, so that a changed
 * password file is read at the next one.
 */
export async function sendTo(spec: ChannelSpec, alert: Alert, { smtp, logger }: SendContext): Promise<void> {
  switch (spec.kind) {
    case 'log':
      return new LogAlertChannel(logger).send(alert);
    case 'webhook':
      return new WebhookAlertChannel(spec.url).send(alert);
    case 'email':
      if (!smtp) throw new UndeliverableAlert('no SMTP server is configured for email alerts (CAPA_SMTP_HOST)');
      return new EmailChannel(smtp, spec.to).send(alert);
    default:
      // A kind a newer release enqueued (during a rolling upgrade): left to be retried by a worker that knows it.
      throw new Error(`unknown alert channel kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}
