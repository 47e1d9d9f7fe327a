import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Mailbox {
  port: number;
  mails: ParsedMail[];
  logins: string[];
  close(): Promise<void>;
}

/** The login a test's SMTP server takes (its password is in a file the channel reads). */
export const SMTP_LOGIN = { user: 'capa', password: 'smtp-pass-123' };

/** A real SMTP server on 127.0.0.1 that keeps each message it accepts, parsed. */
export async function startSmtp(options: SMTPServerOptions, port = 0): Promise<Mailbox> {
  const mails: ParsedMail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    ...options,
    onData(stream, _session, done) {
      simpleParser(stream).then((mail) => {
        mails.push(mail);
        done();
      }, done);
    },
    onAuth(auth, _session, done) {
      if (auth.username === SMTP_LOGIN.user && auth.password === SMTP_LOGIN.password) {
        logins.push(auth.username!);
        return done(null, { user: auth.username });
      }
      done(new Error('Invalid username or password'));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Plain SMTP with no STARTTLS and no login: a relay on localhost. */
export const PLAIN_RELAY: SMTPServerOptions = { disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true };
