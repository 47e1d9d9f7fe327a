import axios from 'axios';
import type { Alert, AlertChannel } from './alert-channel';

/**
 * Posts alerts as JSON to a webhook. `text` is Markdown-ish plain text that Slack incoming webhooks and
 * Teams (via a workflow/connector) display as is; `fields` carries the structured data.
 *
 * One attempt: the delivery loop (alert-delivery.ts) tries again with its backoff; a second retry loop here would
 * multiply the attempts.
 */
export class WebhookAlertChannel implements AlertChannel {
  constructor(private readonly url: string) {}

  async send(alert: Alert): Promise<void> {
    const body = {
      text: `*${alert.title}*\n${alert.lines.map((l) => `• ${l}`).join('\n')}`,
      title: alert.title,
      fields: alert.fields,
    };
    const res = await axios.post(this.url, body, { timeout: 10_000, validateStatus: () => true }).catch((err) => {
      throw new Error(`alert webhook unreachable: ${(err as { code?: string }).code ?? (err as Error).message}`);
    });
    if (res.status >= 300) throw new Error(`alert webhook answered HTTP ${res.status}`);
  }
}
