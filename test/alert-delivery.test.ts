import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import selfsigned from 'selfsigned';
import type { SMTPServerOptions } from 'smtp-server';
import type { Alert } from '../src/alerts/alert-channel';
import { type AlertDeliveryOptions, type AlertQueue, startAlertDelivery } from '../src/alerts/alert-delivery';
import type { ChannelSpec, SmtpSettings } from '../src/alerts/channel-spec';
import { jsonLogger } from '../src/observability/logger';
import type { Store } from '../src/store/store';
import { freePort } from '../src/temporal/dev-server';
import { sqlAs, testDatabaseUrl, testStore } from './helpers/postgres';
import { migratedDatabase, startThrowawayPostgres } from './helpers/throwaway-postgres';
import { waitFor } from './helpers/wait';
import { type Mailbox, PLAIN_RELAY, startSmtp as startMailbox } from './helpers/smtp';

// Alerts go through the store's outbox: an activity enqueues, and each worker's delivery loop sends them, with real
// channels here (an SMTP server, HTTP webhooks) and a real PostgreSQL.

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Retries quick enough for a test: 50 ms doubling to 400 ms. */
const FAST = { pollMs: 50, retry: { firstDelayMs: 50, maxDelayMs: 400 } };

interface Harness {
  url: string;
  store: Store;
  logs: Array<{ level: string; message: string; [field: string]: unknown }>;
  /** A delivery loop on this outbox (a worker's), stopped after the test. */
  startLoop(options?: Partial<AlertDeliveryOptions>): ReturnType<typeof startAlertDelivery>;
  rows(): Promise<Array<{ alert_key: string; status: string; attempts: number; last_error: string | null }>>;
}

async function harness(url?: string): Promise<Harness> {
  url ??= await testDatabaseUrl();
  const store = await testStore(url);
  const logs: Harness['logs'] = [];
  const logger = jsonLogger('debug', (line) => logs.push(JSON.parse(line)));
  const sql = sqlAs(url);
  return {
    url,
    store,
    logs,
    startLoop(options) {
      const loop = startAlertDelivery({ outbox: store.alertOutbox, logger, ...FAST, ...options });
      cleanup.push(() => loop.stop());
      return loop;
    },
    rows: async () =>
      (await sql.query('SELECT alert_key, status, attempts, last_error FROM alert_outbox ORDER BY alert_key, id')).rows,
  };
}

const alert = (title: string, lines: string[] = ['what happened']): Alert => ({
  title,
  lines,
  fields: { kind: 'test' },
});

/** A real SMTP server, closed after the test. */
async function startSmtp(options: SMTPServerOptions, port = 0): Promise<Mailbox> {
  const box = await startMailbox(options, port);
  cleanup.push(box.close);
  return box;
}

const smtpTo = (port: number, more: Partial<SmtpSettings> = {}): SmtpSettings => ({
  host: '127.0.0.1',
  port,
  secure: false,
  insecure: true,
  from: 'capa-sync@example.com',
  ...more,
});

interface Hook {
  url: string;
  /** Each request's path and title, in arrival order, whatever was answered. */
  requests: Array<{ path: string; title: string }>;
}

/** A real webhook: `answer` says the status of each request (its number from 1) and how long it takes. */
async function startHook(answer: (n: number) => { status: number; delayMs?: number } = () => ({ status: 200 })) {
  const requests: Hook['requests'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ path: req.url!, title: JSON.parse(body).title });
      const { status, delayMs = 0 } = answer(requests.length);
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => {
    server.closeAllConnections(); // a request still held (a slow answer) ends with the test
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, requests } satisfies Hook;
}

const quiet = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('delivers an email alert with its sender, recipients and subject, as plain text and as HTML', async () => {
  const h = await harness();
  const box = await startSmtp(PLAIN_RELAY);
  const held = alert('capa-sync batch b1 is waiting for approval', [
    'Unusual: 40% of rows change priority__c (limit <25%)',
    'Approve: capa-sync approve b1 --operator <you> --reason <why>',
  ]);
  await h.store.alertOutbox.enqueue(
    'batch-held/b1',
    [{ kind: 'email', to: ['qa@example.com', 'lead@example.com'] }],
    held,
  );
  h.startLoop({ smtp: smtpTo(box.port) });

  const [mail] = await waitFor('the email', async () => box.mails.length > 0 && box.mails);
  expect(mail.from?.text).toBe('capa-sync@example.com');
  expect(mail.to && !Array.isArray(mail.to) && mail.to.value.map((a) => a.address)).toEqual([
    'qa@example.com',
    'lead@example.com',
  ]);
  expect(mail.subject).toBe('capa-sync batch b1 is waiting for approval');
  expect(mail.text).toContain('Unusual: 40% of rows change priority__c (limit <25%)');
  expect(mail.text).toContain('Approve: capa-sync approve b1 --operator <you> --reason <why>');
  expect(mail.html).toContain('<li>Unusual: 40% of rows change priority__c (limit &lt;25%)</li>');
  expect(mail.html).toContain(
    '<li>Approve: <code>capa-sync approve b1 --operator &lt;you&gt; --reason &lt;why&gt;</code></li>',
  );
  expect(mail.html).not.toContain('<you>');
  await waitFor('the delivered mark', async () => (await h.rows())[0]?.status === 'delivered');
});

it.each([
  ['STARTTLS', { secure: false }],
  ['implicit TLS', { secure: true }],
])('sends through %s with a login whose password comes from a file, trusting the CA file', async (_, tls) => {
  const h = await harness();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-smtp-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  fs.writeFileSync(path.join(dir, 'ca.pem'), cert.cert);
  fs.writeFileSync(path.join(dir, 'password'), 'smtp-pass-123\n');
  const box = await startSmtp({ ...tls, key: cert.private, cert: cert.cert, authMethods: ['PLAIN', 'LOGIN'] });

  await h.store.alertOutbox.enqueue('k1', [{ kind: 'email', to: ['qa@example.com'] }], alert('over TLS'));
  const smtp = smtpTo(box.port, {
    ...tls,
    insecure: false,
    user: 'capa',
    passwordFile: path.join(dir, 'password'),
    caFile: path.join(dir, 'ca.pem'),
  });
  h.startLoop({ smtp });

  await waitFor('the email', async () => box.mails.length > 0);
  expect(box.mails.map((m) => m.subject)).toEqual(['over TLS']);
  expect(box.logins).toEqual(['capa']);
  await waitFor('the delivered mark', async () => (await h.rows())[0]?.status === 'delivered');
  expect(JSON.stringify(h.logs)).not.toContain('smtp-pass-123');
});

it('never sends in plain text to a server without STARTTLS unless told the relay is insecure', async () => {
  const h = await harness();
  const box = await startSmtp(PLAIN_RELAY);
  await h.store.alertOutbox.enqueue('k1', [{ kind: 'email', to: ['qa@example.com'] }], alert('not in clear'));
  h.startLoop({ smtp: smtpTo(box.port, { insecure: false }) });

  const [row] = await waitFor('a failed attempt', async () => {
    const rows = await h.rows();
    return rows[0]?.last_error ? rows : undefined;
  });
  expect(row).toMatchObject({ status: 'pending' });
  expect(row.last_error).toMatch(new RegExp(`^SMTP server 127\\.0\\.0\\.1:${box.port}: .*STARTTLS`));
  expect(box.mails).toEqual([]);
});

it('delivers each of 5 alerts exactly once when the SMTP server comes up after they were enqueued', async () => {
  const h = await harness();
  const port = await freePort();
  const to: ChannelSpec = { kind: 'email', to: ['qa@example.com'] };
  for (let i = 1; i <= 5; i++) await h.store.alertOutbox.enqueue(`record/R${i}`, [to], alert(`CAPA R${i}`));
  h.startLoop({ smtp: smtpTo(port) });

  await waitFor('failed attempts', async () => (await h.rows()).every((r) => r.attempts >= 2 && r.last_error));
  await quiet(2_000);
  expect((await h.rows()).map((r) => r.status)).toEqual(Array(5).fill('pending'));
  const box = await startSmtp(PLAIN_RELAY, port);

  await waitFor('5 emails', async () => box.mails.length >= 5, 30_000);
  await waitFor('5 delivered marks', async () => (await h.rows()).every((r) => r.status === 'delivered'));
  await quiet(1_000); // nothing more comes
  expect(box.mails.map((m) => m.subject).sort()).toEqual(['CAPA R1', 'CAPA R2', 'CAPA R3', 'CAPA R4', 'CAPA R5']);
});

it('retries a webhook that answers 500 twice, then delivers once on its 200', async () => {
  const h = await harness();
  const hook = await startHook((n) => ({ status: n <= 2 ? 500 : 200 }));
  await h.store.alertOutbox.enqueue('k1', [{ kind: 'webhook', url: hook.url }], alert('third time'));
  h.startLoop();

  await waitFor('the delivered mark', async () => (await h.rows())[0]?.status === 'delivered');
  await quiet(1_000);
  expect(hook.requests.map((r) => r.title)).toEqual(['third time', 'third time', 'third time']);
  expect(await h.rows()).toEqual([
    { alert_key: 'k1', status: 'delivered', attempts: 3, last_error: 'alert webhook answered HTTP 500' },
  ]);
});

it('delivers every alert exactly once when two workers deliver from the same outbox', async () => {
  const h = await harness();
  const other = await testStore(h.url); // the second worker's own pool
  const hook = await startHook(() => ({ status: 200, delayMs: 100 }));
  const keys = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`);
  for (const key of keys) await h.store.alertOutbox.enqueue(key, [{ kind: 'webhook', url: hook.url }], alert(key));

  const claimed = [0, 0];
  const counting = (outbox: AlertQueue, worker: number): AlertQueue => ({
    claimDue: async (limit, leaseMs) => {
      const claims = await outbox.claimDue(limit, leaseMs);
      claimed[worker] += claims.length;
      return claims;
    },
    delivered: (claim) => outbox.delivered(claim),
    retryLater: (claim, error, delayMs) => outbox.retryLater(claim, error, delayMs),
    giveUp: (claim, error) => outbox.giveUp(claim, error),
  });
  h.startLoop({ outbox: counting(h.store.alertOutbox, 0), concurrency: 3 });
  h.startLoop({ outbox: counting(other.alertOutbox, 1), concurrency: 3 });

  await waitFor('every delivered mark', async () => (await h.rows()).every((r) => r.status === 'delivered'));
  expect(hook.requests.map((r) => r.title).sort()).toEqual(keys);
  expect((await h.rows()).map((r) => r.attempts)).toEqual(keys.map(() => 1));
  expect(claimed[0]).toBeGreaterThan(0);
  expect(claimed[1]).toBeGreaterThan(0);
});

it('gives up an alert that keeps failing: its status, one error line naming it, the counter', async () => {
  const h = await harness();
  const hook = await startHook(() => ({ status: 503 }));
  await h.store.alertOutbox.enqueue('record/R9', [{ kind: 'webhook', url: hook.url }], alert('never lands'));
  let givenUp = 0;
  h.startLoop({ retry: { ...FAST.retry, maxAttempts: 3 }, metrics: { alertGivenUp: () => givenUp++ } });

  await waitFor('the given-up mark', async () => (await h.rows())[0]?.status === 'given-up');
  await quiet(500);
  expect(await h.rows()).toEqual([
    { alert_key: 'record/R9', status: 'given-up', attempts: 3, last_error: 'alert webhook answered HTTP 503' },
  ]);
  expect(hook.requests).toHaveLength(3);
  const errors = h.logs.filter((l) => l.level === 'error');
  expect(errors).toHaveLength(1);
  const label = `webhook:${new URL(hook.url).host}`;
  expect(errors[0].message).toBe(
    `alert record/R9 to ${label} given up after 3 attempts: alert webhook answered HTTP 503`,
  );
  expect(errors[0]).toMatchObject({ alertKey: 'record/R9', channel: label, attempts: 3 });
  expect(givenUp).toBe(1);
});

it('gives up at once an email alert when no SMTP server is configured', async () => {
  const h = await harness();
  await h.store.alertOutbox.enqueue('k1', [{ kind: 'email', to: ['qa@example.com'] }], alert('no server'));
  let givenUp = 0;
  h.startLoop({ metrics: { alertGivenUp: () => givenUp++ } });

  await waitFor('the given-up mark', async () => (await h.rows())[0]?.status === 'given-up');
  expect((await h.rows())[0]).toMatchObject({ attempts: 1, last_error: expect.stringContaining('no SMTP server') });
  expect(h.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
    expect.stringMatching(/^alert k1 to email:qa@example\.com given up after 1 attempt: no SMTP server/),
  ]);
  expect(givenUp).toBe(1);
});

it('delivers to the log, whatever characters the alert carries', async () => {
  const h = await harness();
  const odd = alert('CAPA R1: update failed permanently', ['Vault said: bad\u0000byte <b>"quoted"</b>']);
  await h.store.alertOutbox.enqueue('record/R1', [{ kind: 'log' }], odd);
  h.startLoop();

  await waitFor('the delivered mark', async () => (await h.rows())[0]?.status === 'delivered');
  expect(h.logs.filter((l) => l.message.startsWith('ALERT'))).toEqual([
    expect.objectContaining({ level: 'warn', message: `ALERT ${odd.title}`, alert: odd.lines, kind: 'test' }),
  ]);
});

it('delivers an alert enqueued twice for a channel once, and once to each other channel of its key', async () => {
  const h = await harness();
  const hook = await startHook();
  const team = { kind: 'webhook', url: `${hook.url}/team` } as const;
  const lead = { kind: 'webhook', url: `${hook.url}/lead` } as const; // same host: another channel all the same
  await h.store.alertOutbox.enqueue('record/R1', [team], alert('first'));
  await h.store.alertOutbox.enqueue('record/R1', [team], alert('a retried activity'));
  await h.store.transaction((tx) => tx.alertOutbox.enqueue('record/R1', [team, lead, lead], alert('another worker')));
  h.startLoop();

  await waitFor('the delivered marks', async () => {
    const rows = await h.rows();
    return rows.length === 2 && rows.every((r) => r.status === 'delivered');
  });
  await quiet(500);
  expect(hook.requests.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
    { path: '/hook/lead', title: 'another worker' },
    { path: '/hook/team', title: 'first' },
  ]);
});

it('lets a slow channel hold one sending slot only, and stop() waits for the sends in flight', async () => {
  const h = await harness();
  const slow = await startHook(() => ({ status: 200, delayMs: 3_000 }));
  const fast = await startHook();
  await h.store.alertOutbox.enqueue('a-slow', [{ kind: 'webhook', url: slow.url }], alert('slow'));
  await h.store.alertOutbox.enqueue('b-fast', [{ kind: 'webhook', url: fast.url }], alert('fast'));
  const loop = h.startLoop({ concurrency: 2 });

  await waitFor('the fast one delivered', async () => (await h.rows())[1]?.status === 'delivered', 2_500, 50);
  expect((await h.rows())[0].status).toBe('pending'); // the slow one still sending
  await loop.stop();
  expect((await h.rows()).map((r) => r.status)).toEqual(['delivered', 'delivered']);
});

it('sends one alert at a time per channel and keeps a slot for other kinds: a hanging SMTP server holds back no webhook', async () => {
  const h = await harness();
  // An SMTP server that takes the connection and never greets.
  const hanging = net.createServer(() => undefined);
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => hanging.close(resolve)));
  const port = (hanging.address() as AddressInfo).port;
  for (let i = 0; i < 6; i++)
    await h.store.alertOutbox.enqueue(`mail-${i}`, [{ kind: 'email', to: [`qa-${i}@example.com`] }], alert('mail'));
  const hook = await startHook();
  await h.store.alertOutbox.enqueue('z-hook', [{ kind: 'webhook', url: hook.url }], alert('chat'));
  h.startLoop({ smtp: smtpTo(port), concurrency: 4 });

  await waitFor('the webhook delivered', async () => hook.requests.length === 1, 3_000, 50);
  const rows = await h.rows();
  expect(rows.find((r) => r.alert_key === 'z-hook')!.status).toBe('delivered');
  expect(rows.filter((r) => r.alert_key.startsWith('mail-')).every((r) => r.status === 'pending')).toBe(true);
});

it('fails an attempt that outlasts the send limit, and tries again', async () => {
  const h = await harness();
  const hook = await startHook((n) => ({ status: 200, delayMs: n === 1 ? 3_000 : 0 }));
  await h.store.alertOutbox.enqueue('k1', [{ kind: 'webhook', url: hook.url }], alert('hung'));
  h.startLoop({ sendTimeoutMs: 500 });

  await waitFor('the delivered mark', async () => (await h.rows())[0]?.status === 'delivered');
  expect((await h.rows())[0]).toMatchObject({ attempts: 2, last_error: 'no answer within 0.5 s' });
});

it('keeps delivering after the database was away, logging the outage once', async () => {
  const server = await startThrowawayPostgres();
  cleanup.push(() => server.stop());
  const h = await harness(await migratedDatabase(server, 'capa_outage'));
  const hook = await startHook();
  h.startLoop();
  await server.restart(() => quiet(1_500));

  await h.store.alertOutbox.enqueue('k1', [{ kind: 'webhook', url: hook.url }], alert('after the outage'));
  await waitFor('the delivered mark', async () => (await h.rows())[0]?.status === 'delivered');
  expect(hook.requests.map((r) => r.title)).toEqual(['after the outage']);
  const outage = h.logs.filter((l) => l.message === 'alert outbox unreachable, trying again');
  expect(outage).toHaveLength(1);
  expect(h.logs.map((l) => l.message)).toContain('alert outbox reachable again');
});
