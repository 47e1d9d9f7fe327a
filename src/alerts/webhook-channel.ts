import { setTimeout as sleep } from 'node:timers/promises';
import axios from 'axios';
import type { Alert, AlertChannel } from './alert-channel';
import type { Logger } from '../logger';

/**
 * Posts alerts as JSON to a webhook. `text` is Markdown-ish plain text that Slack incoming webhooks and
 * Teams (via a workflow/connector) display as is; `fields` carries the structured data.
 */
export class WebhookAlertChannel implements AlertChannel {
  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly attempts = 5,
    private readonly backoffMs = 500,
  ) {}

  async send(alert: Alert): Promise<void> {
    const body = {
      text: `*${alert.title}*\n${alert.lines.map((l) => `• ${l}`).join('\n')}`,
      title: alert.title,
      fields: alert.fields,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await axios.post(this.url, body, { timeout: 10_000, validateStatus: () => true });
        if (res.status < 300) return;
        if (res.status < 500 && res.status !== 429) throw new Error(`webhook refused the alert: HTTP ${res.status}`);
        if (attempt >= this.attempts) throw new Error(`webhook failed after ${attempt} attempts: HTTP ${res.status}`);
      } catch (err) {
        if ((err as Error).message.startsWith('webhook') || attempt >= this.attempts) throw err;
        this.logger.warn('alert webhook unreachable, retrying', { attempt, code: (err as { code?: string }).code });
      }
      await sleep(this.backoffMs * 2 ** (attempt - 1));
    }
  }
}
