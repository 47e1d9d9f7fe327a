import fs from 'node:fs';
import tls from 'node:tls';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Alert, AlertChannel } from './alert-channel';
import type { SmtpSettings } from './channel-spec';

/**
 * Sends alerts as email through the SMTP server of CAPA_SMTP_*: TLS from the first byte when `secure`, otherwise
 * STARTTLS, required unless `insecure`. The password is read from its file when the channel is made, and is never
 * in a message. One attempt a send: the delivery loop retries.
 */
export class EmailChannel implements AlertChannel {
  private readonly transport: Transporter;

  constructor(
    private readonly smtp: SmtpSettings,
    private readonly to: string[],
  ) {
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: !smtp.secure && !smtp.insecure,
      // The CA file is trusted beside the usual public CAs, not instead of them.
      tls: smtp.caFile ? { ca: [...tls.rootCertificates, fs.readFileSync(smtp.caFile, 'utf8')] } : undefined,
      auth: smtp.user
        ? { user: smtp.user, pass: smtp.passwordFile ? fs.readFileSync(smtp.passwordFile, 'utf8').trim() : undefined }
        : undefined,
      // As the webhook's: a server that hangs fails the attempt, and the loop tries again later.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(alert: Alert): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.smtp.from,
        to: this.to,
        subject: alert.title.replace(/\s+/g, ' '),
        ...emailBodies(alert),
      });
    } catch (err) {
      throw new Error(`SMTP server ${this.smtp.host}:${this.smtp.port}: ${(err as Error).message}`);
    }
  }
}

/** Where a line names a command to run (`capa-sync approve ...`): from there on it is shown as code. */
const COMMAND = /(?:^|\s)(capa-sync [a-z])/;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function htmlLine(line: string): string {
  const command = COMMAND.exec(line);
  if (!command) return escapeHtml(line);
  const at = command.index + command[0].length - command[1].length;
  return `${escapeHtml(line.slice(0, at))}<code>${escapeHtml(line.slice(at))}</code>`;
}

/** The alert's title and what happened (its lines), as plain text and as HTML. */
function emailBodies(alert: Alert): { text: string; html: string } {
  return {
    text: [alert.title, '', ...alert.lines].join('\n'),
    html: [
      '<!doctype html>',
      '<html><body>',
      `<p><strong>${escapeHtml(alert.title)}</strong></p>`,
      '<ul>',
      ...alert.lines.map((l) => `<li>${htmlLine(l)}</li>`),
      '</ul>',
      '</body></html>',
    ].join('\n'),
  };
}
