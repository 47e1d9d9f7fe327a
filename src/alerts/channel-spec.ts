/**
 * Where a team's alerts go, as the routing file names it: the log, a chat webhook, or email addresses (sent through
 * the SMTP server of CAPA_SMTP_*). Pure data: the store keeps it with each alert still to deliver.
 */
export type ChannelSpec = { kind: 'log' } | { kind: 'webhook'; url: string } | { kind: 'email'; to: string[] };

/** The SMTP server email alerts go through (CAPA_SMTP_*); the password is read from a file, never from the env. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS, required unless `insecure`. */
  secure: boolean;
  /** Allow plain SMTP without STARTTLS (a relay on localhost, tests). */
  insecure: boolean;
  from: string;
  user?: string;
  passwordFile?: string;
  /** A PEM file of extra CA certificates to trust (a company CA). */
  caFile?: string;
}

/** A short, secret-free name of a channel for logs and metrics. */
export const channelLabel = (c: ChannelSpec): string =>
  c.kind === 'email' ? `email:${c.to.join(',')}` : c.kind === 'webhook' ? `webhook:${new URL(c.url).host}` : 'log';

/**
 * What makes two specs the same channel, for the outbox's one delivery per alert and channel: the whole webhook URL
 * (many teams' webhooks share a host), the addresses in any order. Kept in the store, never logged (a webhook's URL
 * is its secret).
 */
export const channelKey = (c: ChannelSpec): string =>
  c.kind === 'email' ? `email:${[...c.to].sort().join(',')}` : c.kind === 'webhook' ? `webhook:${c.url}` : 'log';
