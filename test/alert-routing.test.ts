import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { listRecords, startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { type Mailbox, PLAIN_RELAY, startSmtp } from './helpers/smtp';
import { waitFor } from './helpers/wait';

// Skip and alert, routed: each record's alerts reach the team responsible for it (by its site, read with the batch's
// page), by email through a real SMTP server; the operators get the whole digest and each team a digest of its own.

const ROUTING = `
operators: qa-ops
default: qa-ops
teams:
  - name: qa-ops
    channels: [{ email: qa-ops@example.com }]
  - name: boston
    channels: [{ email: qa-boston@example.com }]
  - name: dublin
    channels: [{ email: [qa-dublin@example.com] }]
  - name: cork
    channels: [{ email: qa-cork@example.com }]
    escalation: [{ email: head-of-quality@example.com }]
    ladder:
      - { after: 4s, step: remind }
      - { after: 8s, step: escalate }
rules:
  - team: boston
    when: { site__c: Boston }
  - team: dublin
    when: { site__c: Dublin }
  - team: cork
    when: { site__c: Cork }
`;

const LOCKED = 'under_review_state__c';
/** Records 0-5 are Boston's, 6-11 Dublin's; 0, 1 and 6 are under review, and a reviewer changes their priority. */
const RECORDS = 12;
const REVIEWED = [0, 1, 6];
const id = (i: number) => sampleRecordId(i);

let stack: DevStack;
let mailbox: Mailbox;

beforeAll(async () => {
  mailbox = await startSmtp(PLAIN_RELAY);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-routing-'));
  fs.writeFileSync(path.join(dir, 'routing.yaml'), ROUTING);
  stack = await startDevStack({
    records: 0,
    lockedFraction: 0,
    taskQueue: 'routing',
    // The lock endpoint names who holds each lock, and since when.
    dialect: 'customer',
    settings: {
      CAPA_TICK_SECONDS: '1',
      CAPA_ROUTING_FILE: path.join(dir, 'routing.yaml'),
      CAPA_SMTP_HOST: '127.0.0.1',
      CAPA_SMTP_PORT: String(mailbox.port),
      CAPA_SMTP_TLS: 'none',
      CAPA_SMTP_FROM: 'capa-sync@example.com',
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await mailbox?.close();
});

const recipients = (m: ParsedMail) => [m.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address));
const mailsTo = (address: string) => mailbox.mails.filter((m) => recipients(m).includes(address));
const recordAlertsTo = (address: string) =>
  mailsTo(address)
    .map((m) => /^CAPA (\S+): /.exec(m.subject ?? '')?.[1])
    .filter((r): r is string => !!r)
    .sort();

it("sends each site's team only its own records' alerts, and a digest counting only its records", async () => {
  stack.sim.store.seed(
    Array.from({ length: RECORDS }, (_, i) => ({
      id: id(i),
      state__v: REVIEWED.includes(i) ? LOCKED : 'in_progress_state__c',
      fields: { priority__c: 'Medium', risk_score__c: 10, site__c: i < 6 ? 'Boston' : 'Dublin' },
      ...(REVIEWED.includes(i)
        ? {
            unlock: {
              atMs: Date.now() + 4_000,
              toState: 'approved_state__c',
              edit: { fields: { priority__c: 'Low' }, user: 'reviewer@example.com' },
            },
          }
        : {}),
    })),
  );
  const rows = Array.from({ length: RECORDS }, (_, i) => ({
    capa_id: id(i),
    priority: 'High',
    risk_score: 10,
    due_date: '2027-03-31',
  }));
  // A row no record can be read for (a bad id): the operators' digest counts it, no team's does.
  rows.push({ capa_id: 'not a record id', priority: 'High', risk_score: 10, due_date: '2027-03-31' });
  const { ctx, env } = stack;
  const summary = await (await startBatch(env.client, ctx.config, { source: writeCsv(rows), batchId: 'r1' })).result();
  expect(summary.counts).toMatchObject({ updated: 9, waiting: 3, rejected: 1 });

  // Each reviewed record stops on the reviewer's edit, and its team alone is told.
  await waitFor(
    'the conflict alerts',
    async () => recordAlertsTo('qa-boston@example.com').length + recordAlertsTo('qa-dublin@example.com').length >= 3,
    60_000,
  );
  expect(recordAlertsTo('qa-boston@example.com')).toEqual([id(0), id(1)]);
  expect(recordAlertsTo('qa-dublin@example.com')).toEqual([id(6)]);
  expect(recordAlertsTo('qa-ops@example.com')).toEqual([]);
  const conflict = mailsTo('qa-boston@example.com').find((m) => m.subject?.startsWith(`CAPA ${id(0)}:`))!;
  expect(conflict.text).toContain(`capa-sync force ${id(0)} --operator <you> --reason <why>`);
  expect(conflict.html).toContain('<code>');

  // The digests: the operators' counts every row; each team's, its own records only.
  const digest = (address: string) => mailsTo(address).find((m) => m.subject?.startsWith('capa-sync batch r1'));
  expect(digest('qa-ops@example.com')!.subject).toBe(
    'capa-sync batch r1: 9 updated, 3 waiting for unlock, 0 failed, 1 rejected',
  );
  expect(digest('qa-boston@example.com')!.subject).toBe(
    'capa-sync batch r1 (team boston): 4 updated, 2 waiting for unlock, 0 failed, 0 rejected',
  );
  expect(digest('qa-dublin@example.com')!.subject).toBe(
    'capa-sync batch r1 (team dublin): 5 updated, 1 waiting for unlock, 0 failed, 0 rejected',
  );
  expect(digest('qa-boston@example.com')!.text).not.toContain(id(6));
  expect(digest('qa-dublin@example.com')!.text).toContain(id(6));
  // One mail per alert and address: nothing repeated.
  expect(mailbox.mails.length).toBe(3 + 3);

  // Operators find a team's records by their search attribute.
  const boston = await waitFor('the team on the record workflows', async () => {
    const listed = await listRecords(env.client, ctx.config, { phase: 'needs-decision', team: 'boston' });
    return listed.length === 2 ? listed : undefined;
  });
  expect(boston.map((r) => r.recordId).sort()).toEqual([id(0), id(1)]);
});

it("climbs a team's escalation ladder while the lock holds, naming the holder, each step once; a new holder starts it again", async () => {
  const held = id(20);
  stack.sim.store.seed([
    { id: held, state__v: LOCKED, fields: { priority__c: 'Medium', site__c: 'Cork' }, lockedBy: 'alice@example.com' },
  ]);
  stack.sim.store.records.get(held)!.lockedSince = new Date().toISOString();
  const { ctx, env } = stack;
  const rows = [{ capa_id: held, priority: 'High', risk_score: 10, due_date: '2027-03-31' }];
  await (await startBatch(env.client, ctx.config, { source: writeCsv(rows), batchId: 'r2' })).result();

  const ladder = (address: string) =>
    mailsTo(address)
      .filter((m) => m.subject?.startsWith(`CAPA ${held}:`))
      .map((m) => `${m.subject!.slice(`CAPA ${held}: `.length)} | ${/locked by (\S+)/.exec(m.text ?? '')?.[1]}`);
  await waitFor('the escalation', async () => ladder('head-of-quality@example.com').length === 1, 60_000);
  expect(ladder('qa-cork@example.com')).toEqual([
    'still locked in Vault, waiting to apply | alice@example.com',
    'escalated: still locked in Vault, waiting to apply | alice@example.com',
  ]);
  expect(ladder('head-of-quality@example.com')).toEqual([
    'escalated: still locked in Vault, waiting to apply | alice@example.com',
  ]);

  // Bob takes the review over: his hold starts the ladder again.
  Object.assign(stack.sim.store.records.get(held)!, {
    lockedBy: 'bob@example.com',
    lockedSince: new Date().toISOString(),
  });
  await waitFor('a reminder naming bob', async () => ladder('qa-cork@example.com').length === 3, 60_000);
  expect(ladder('qa-cork@example.com')[2]).toBe('still locked in Vault, waiting to apply | bob@example.com');
  const listed = await waitFor('the holder on the record workflow', async () => {
    const records = await listRecords(env.client, ctx.config, { holder: 'bob@example.com' });
    return records.length ? records : undefined;
  });
  expect(listed.map((r) => [r.recordId, r.team])).toEqual([[held, 'cork']]);
  // Nothing was forced: the record still waits, unwritten.
  expect(stack.sim.store.records.get(held)!.fields.priority__c).toBe('Medium');
});
