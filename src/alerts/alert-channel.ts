import type { Logger } from '../observability/logger';

/** An alert for people: a title and readable lines, plus structured fields for machines. */
export interface Alert {
  title: string;
  lines: string[];
  fields: Record<string, unknown>;
}

export interface AlertChannel {
  send(alert: Alert): Promise<void>;
}

/** The default channel: a structured log line at warn level. */
export class LogAlertChannel implements AlertChannel {
  constructor(private readonly logger: Logger) {}

  async send(alert: Alert): Promise<void> {
    this.logger.warn(`ALERT ${alert.title}`, { alert: alert.lines, ...alert.fields });
  }
}
