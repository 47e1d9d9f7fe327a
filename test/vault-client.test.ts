import fs from 'node:fs';
import path from 'node:path';
import { VaultSimulator } from '../src/simulator/server';
import { NO_FAULTS } from '../src/simulator/faults';
import { VaultError } from '../src/vault/errors';
import { NOT_SENT } from '../src/vault/http';
import { AuthResponse, BulkUpdateResponse, QueryResponse } from '../src/vault/schemas';
import { CUSTOMER_DIALECT, DOCUMENTED_DIALECT } from '../src/vault/dialect';
import { jsonLogger } from '../src/observability/logger';
import { buildStateQueries } from '../src/vault/vql';
import { clientFor, rawCall, rawLogin, startSimulator } from './helpers/vault';

const LOCKED = 'under_review_state__c';

function seedBasic(sim: VaultSimulator): void {
  sim.store.seed([
    { id: 'R1', state__v: 'in_progress_state__c', fields: { priority__c: 'Low' } },
    { id: 'R2', state__v: 'in_progress_state__c', fields: { priority__c: 'High' } },
    { id: 'R3', state__v: LOCKED, fields: { priority__c: 'Low' } },
    { id: 'R4', state__v: 'in_progress_state__c', fields: { priority__c: 'Low' } },
  ]);
}

describe.each(['documented', 'customer'] as const)('Vault client, %s dialect', (dialect) => {
  let sim: VaultSimulator;
  beforeEach(async () => {
    sim = await startSimulator({ dialect });
    seedBasic(sim);
  });
  afterEach(() => sim.stop());

  it('classifies every outcome in input order and writes only what Vault accepted', async () => {
    const client = clientFor(sim);
    const outcomes = await client.bulkUpdate('capa__c', [
      { id: 'R1', values: { priority__c: 'High' } },
      { id: 'R2', values: { priority__c: 'High' } },
      { id: 'R3', values: { priority__c: 'High' } },
      { id: 'R4', values: { priority__c: 'Urgent' } },
    ]);
    expect(outcomes.map((o) => [o.id, o.status])).toEqual([
      ['R1', 'updated'],
      ['R2', 'unchanged'],
      ['R3', 'locked'],
      ['R4', 'permanent'],
    ]);
    expect(outcomes[2].errorType).toBe(dialect === 'customer' ? 'RECORD_LOCKED' : 'OPERATION_NOT_ALLOWED');
    expect(outcomes[3].errorType).toBe('INVALID_DATA');
    expect(sim.store.audit.map((a) => [a.recordId, a.field, a.oldValue, a.newValue])).toEqual([
      ['R1', 'priority__c', 'Low', 'High'],
    ]);
  });

  it('classifies a request whose rows are all locked (HTTP 423 in the customer dialect)', async () => {
    const outcomes = await clientFor(sim).bulkUpdate('capa__c', [{ id: 'R3', values: { priority__c: 'High' } }]);
    expect(outcomes).toEqual([expect.objectContaining({ id: 'R3', status: 'locked' })]);
  });

  it('marks RACE_CONDITION rows transient', async () => {
    sim.setFaults({ raceConditionRate: 1 });
    const outcomes = await clientFor(sim).bulkUpdate('capa__c', [{ id: 'R1', values: { priority__c: 'High' } }]);
    expect(outcomes[0]).toMatchObject({ status: 'transient', errorType: 'RACE_CONDITION' });
  });

  it('reads states, and the lock holder where the dialect has a lock endpoint', async () => {
    const client = clientFor(sim);
    const states = await client.readStates('capa__c', ['R3', 'R1', 'missing'], ['priority__c']);
    expect(states).toEqual([
      { id: 'R3', state: LOCKED, status: 'active__v', values: { priority__c: 'Low' } },
      { id: 'R1', state: 'in_progress_state__c', status: 'active__v', values: { priority__c: 'Low' } },
    ]);
    if (dialect === 'customer') {
      await expect(client.readLock('capa__c', 'R3')).resolves.toMatchObject({
        locked: true,
        lockedBy: 'reviewer@example.com',
      });
      await expect(client.readLock('capa__c', 'R1')).resolves.toEqual({ locked: false });
    } else {
      await expect(client.readLock('capa__c', 'R3')).rejects.toThrow(/not enabled/);
    }
  });

  it('re-authenticates once when the session expires in the middle of a run', async () => {
    sim.setFaults({ sessionExpiryEveryCalls: 3 });
    const client = clientFor(sim);
    for (let i = 0; i < 10; i++) await client.readStates('capa__c', ['R1'], []);
    expect(client.stats.reauthentications).toBe(3);
    expect(sim.calls.query).toBe(13);
  });
});

describe('Vault client resilience', () => {
  let sim: VaultSimulator;
  beforeEach(async () => {
    sim = await startSimulator();
    seedBasic(sim);
  });
  afterEach(() => sim.stop());

  it.each(['http429', 'expire-session'] as const)(
    'sends a write again after %s (Vault refused it unread)',
    async (fault) => {
      sim.setFaults({ next: [fault], retryAfterSeconds: 0.05 });
      const outcomes = await clientFor(sim).bulkUpdate('capa__c', [{ id: 'R1', values: { priority__c: 'Medium' } }]);
      expect(outcomes[0].status).toBe('updated');
      expect(sim.calls.bulkUpdate).toBe(2);
      expect(sim.store.audit).toHaveLength(1);
    },
  );

  it.each(['http500', 'http503', 'malformed', 'exception', 'hang'] as const)(
    'reads the record back after %s on a write, and sends nothing again',
    async (fault) => {
      sim.setFaults({ next: [fault], hangMs: 1_000 });
      const client = clientFor(sim, { settings: { timeoutMs: 300 } });
      const outcomes = await client.bulkUpdate('capa__c', [{ id: 'R1', values: { priority__c: 'Medium' } }]);
      // The simulator failed these before applying: the read-back shows it, and the row is safe to send again.
      expect(outcomes[0]).toMatchObject({ status: 'transient', errorType: 'OUTCOME_UNKNOWN' });
      expect(sim.calls.bulkUpdate).toBe(1);
      expect(sim.calls.query).toBe(1);
      expect(sim.store.audit).toHaveLength(0);
    },
  );

  it('reports a write whose answer was lost as updated, confirmed by reading it back', async () => {
    sim.setFaults({ next: ['lost-answer'], hangMs: 1_000 });
    const client = clientFor(sim, { settings: { timeoutMs: 300 } });
    const outcomes = await client.bulkUpdate('capa__c', [
      { id: 'R1', values: { priority__c: 'Medium' } },
      { id: 'R3', values: { priority__c: 'High' } },
    ]);
    expect(outcomes.map((o) => [o.id, o.status])).toEqual([
      ['R1', 'updated'],
      ['R3', 'transient'], // locked: Vault refused it, and the read-back says it was not written
    ]);
    expect(sim.calls.bulkUpdate).toBe(1);
    expect(sim.store.audit.map((a) => [a.recordId, a.newValue])).toEqual([['R1', 'Medium']]);
  });

  it.each(['http500', 'malformed', 'exception', 'hang'] as const)('retries a read after %s', async (fault) => {
    sim.setFaults({ next: [fault], hangMs: 1_000 });
    const states = await clientFor(sim, { settings: { timeoutMs: 300 } }).readStates('capa__c', ['R1'], []);
    expect(states.map((s) => s.id)).toEqual(['R1']);
    expect(sim.calls.query).toBe(2);
  });

  it.each([
    ['http500', 'HTTP 500 with a text/plain body'],
    ['http503', 'HTTP 503 with a text/html body'],
  ] as const)('fails a read after a gateway %s page with a one-line transient reason', async (fault, reason) => {
    sim.setFaults({ next: [fault] });
    const err = await clientFor(sim, { settings: { maxRetries: 0 } })
      .readStates('capa__c', ['R1'], [])
      .catch((e) => e);
    expect(err).toMatchObject({ kind: 'transient', message: `query: ${reason} (gave up after 1 attempts)` });
  });

  it("fails a read after a gateway's 504 page (the answer held past the gateway's time-out) with a one-line transient reason", async () => {
    sim.setFaults({ next: ['hang'], hangMs: 50 });
    const err = await clientFor(sim, { settings: { maxRetries: 0, timeoutMs: 5_000 } })
      .readStates('capa__c', ['R1'], [])
      .catch((e) => e);
    sim.setFaults({ hangMs: NO_FAULTS.hangMs });
    expect(err).toMatchObject({
      kind: 'transient',
      message: 'query: HTTP 504 with a text/html body (gave up after 1 attempts)',
    });
  });

  it('reads a top-level WARNING (every record unchanged) as per-record outcomes', async () => {
    const outcomes = await clientFor(sim).bulkUpdate('capa__c', [
      { id: 'R1', values: { priority__c: 'Low' } },
      { id: 'R2', values: { priority__c: 'High' } },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['unchanged', 'unchanged']);
    expect(sim.calls.bulkUpdate).toBe(1);
  });

  it('gives up after bounded retries with a transient error', async () => {
    sim.setFaults({ serverErrorRate: 1 });
    const client = clientFor(sim, { settings: { maxRetries: 2 } });
    const err = await client.bulkUpdate('capa__c', [{ id: 'R1', values: { priority__c: 'Medium' } }]).catch((e) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect(err.kind).toBe('transient');
    // The write is sent once; reading it back is retried, then the caller hears the outcome is not known.
    expect(sim.calls.bulkUpdate).toBe(1);
    expect(sim.calls.query).toBe(3);
  });

  it("reads one record's lock once, failing fast, where many records wait on the answer", async () => {
    const customer = await startSimulator({ dialect: 'customer' });
    try {
      seedBasic(customer);
      customer.setFaults({ hangRate: 1, hangMs: 3_000 });
      const client = clientFor(customer, { settings: { timeoutMs: 10_000 } });
      const err = await client.readLock('capa__c', 'R1', { onceWithinMs: 300 }).catch((e) => e);
      expect(err).toBeInstanceOf(VaultError);
      expect(err.message).toBe('readLock: timed out');
      expect(customer.calls.lock).toBe(1); // no retry: the record's next tick reads it again
    } finally {
      await customer.stop();
    }
  });

  it('slows down below the burst threshold and counts the time Vault delayed it', async () => {
    sim.setFaults({ burstLimit: 3, burstDelayMs: 30 });
    const client = clientFor(sim, { settings: { burstLimitThreshold: 2, burstPauseMs: 20 } });
    for (let i = 0; i < 5; i++) await client.readStates('capa__c', ['R1'], []);
    expect(client.stats.burstLimitRemaining).toBe(0);
    // Vault delayed two calls by 30 ms each, and the client paused before three calls by 20 ms each.
    expect(client.stats.delayedMs).toBeGreaterThanOrEqual(2 * 30 + 3 * 19);
  });

  it('refuses wrong credentials and a session on the wrong vault, with no secret in the message', async () => {
    const wrong = await clientFor(sim, { settings: { password: 'not-the-password' } })
      .readStates('capa__c', ['R1'], [])
      .catch((e) => e);
    expect(wrong).toMatchObject({ kind: 'auth', errorType: 'USERNAME_OR_PASSWORD_INCORRECT' });
    expect(wrong.message).not.toContain('not-the-password');
    const otherVault = await clientFor(sim, { settings: { expectedVaultId: 9 } })
      .readStates('capa__c', ['R1'], [])
      .catch((e) => e);
    expect(otherVault).toMatchObject({ kind: 'auth', errorType: 'WRONG_VAULT' });
  });

  it('sends the client id on every call', async () => {
    const seen: string[] = [];
    const original = sim['api'].bind(sim);
    jest.spyOn(sim as never, 'api' as never).mockImplementation(((
      req: { headers: Record<string, string> },
      ...rest: unknown[]
    ) => {
      seen.push(req.headers['x-vaultapi-clientid']);
      return (original as (...a: unknown[]) => unknown)(req, ...rest);
    }) as never);
    await clientFor(sim).readStates('capa__c', ['R1'], []);
    expect(seen).toEqual(['capa-sync-tests', 'capa-sync-tests']);
  });
});

describe('bulk splitting and VQL chunking', () => {
  let sim: VaultSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
    sim.store.seed(
      Array.from({ length: 2500 }, (_, i) => ({
        id: `C${i}`,
        state__v: i % 10 === 0 ? LOCKED : 'in_progress_state__c',
        fields: { priority__c: 'Low', description__c: 'x'.repeat(100) },
      })),
    );
  });
  afterAll(() => sim.stop());

  it('splits 1,234 rows into 3 requests and returns outcomes in input order', async () => {
    const rows = Array.from({ length: 1234 }, (_, i) => ({ id: `C${1233 - i}`, values: { priority__c: 'Medium' } }));
    const outcomes = await clientFor(sim).bulkUpdate('capa__c', rows);
    expect(sim.updateRequestSizes).toEqual([500, 500, 234]);
    expect(outcomes.map((o) => o.id)).toEqual(rows.map((r) => r.id));
    outcomes.forEach((o) => expect(o.status).toBe(Number(o.id.slice(1)) % 10 === 0 ? 'locked' : 'updated'));
  });

  it('sends the requests of one call side by side, three at a time at most, outcomes still in input order', async () => {
    sim.setFaults({ latencyMs: 50 });
    sim.peakInFlight = 0;
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: `C${i}`, values: { priority__c: 'High' } }));
    const outcomes = await clientFor(sim).bulkUpdate('capa__c', rows);
    expect(outcomes.map((o) => o.id)).toEqual(rows.map((r) => r.id));
    expect(sim.peakInFlight).toBe(3); // 5 updates of up to 500 rows
    sim.peakInFlight = 0;
    const states = await clientFor(sim).readStates(
      'capa__c',
      rows.map((r) => r.id),
      ['priority__c'],
    );
    expect(states.map((s) => s.id)).toEqual(rows.map((r) => r.id));
    expect(sim.peakInFlight).toBe(3); // 3 queries of up to 1,000 ids
    sim.setFaults({ latencyMs: 0 });
  });

  it('sends each request of a guarded write once: a refused one answers its own rows NOT_SENT, the others are written', async () => {
    // The first request to arrive is refused with a 429; the client waits for no Retry-After and sends it no more.
    sim.setFaults({ next: ['http429'], retryAfterSeconds: 30 });
    const before = new Map([...sim.store.records].map(([id, r]) => [id, r.fields.priority__c]));
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: `C${i}`, values: { priority__c: 'Medium' } }));
    const started = Date.now();
    const outcomes = await clientFor(sim).bulkUpdate('capa__c', rows, { sendOnce: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    const refused = outcomes.filter((o) => o.status === 'transient');
    expect(refused).toHaveLength(500);
    refused.forEach((o) => expect(o.errorType).toBe(NOT_SENT));
    expect(outcomes.filter((o) => o.status === 'updated' || o.status === 'locked')).toHaveLength(500);
    // Vault holds the values of the request it took, and none of the refused one's.
    for (const o of outcomes)
      expect(sim.store.records.get(o.id)!.fields.priority__c).toBe(
        o.status === 'updated' ? 'Medium' : before.get(o.id),
      );
    sim.setFaults({ retryAfterSeconds: 1 });
  });

  it('chunks 2,500 ids into 3 queries and follows next_page for large rows', async () => {
    const client = clientFor(sim);
    const ids = Array.from({ length: 2500 }, (_, i) => `C${i}`);
    const before = { ...sim.calls };
    const states = await client.readStates('capa__c', ids, ['priority__c', 'description__c']);
    expect(states.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(sim.calls.query - (before.query ?? 0)).toBe(3);
    // Large rows come in pages of 200: 1,000 ids need 5 pages, so 4 + 4 + 2 follow-up pages.
    expect(sim.calls.queryPage - (before.queryPage ?? 0)).toBe(10);
  });

  it.each(['GET', 'POST'])(
    'follows next_page with %s (Veeva documents POST, its Java library uses GET)',
    async (method) => {
      type Page = { responseDetails: { next_page: string }; data: { id: string }[] };
      const headers = {
        Authorization: await rawLogin(sim, 'v23.2'),
        'Content-Type': 'application/x-www-form-urlencoded',
      };
      const call = async (m: string, path: string, body?: string) =>
        JSON.parse((await rawCall(sim, m, path, { headers, body })).text) as Page;
      const q = 'SELECT id, description__c FROM capa__c';
      const first = await call('POST', '/api/v23.2/query', new URLSearchParams({ q }).toString());
      const next = await call(method, first.responseDetails.next_page);
      expect(next).toMatchObject({ responseStatus: 'SUCCESS', responseDetails: { pageoffset: 200 } });
      expect(next.data[0].id).not.toBe(first.data[0].id);
    },
  );

  it('keeps each query under 50,000 characters', () => {
    // 1,000 ids of 40 characters and a long field list would make one query of about 51,000 characters.
    const ids = Array.from({ length: 1000 }, (_, i) => `ID${String(i).padStart(38, '0')}`);
    const fields = Array.from({ length: 100 }, (_, i) => `f${i}_${'x'.repeat(70)}__c`);
    const queries = buildStateQueries('capa__c', ids, fields);
    expect(queries).toHaveLength(2);
    queries.forEach((q) => expect(q.length).toBeLessThanOrEqual(50_000));
    expect(queries.join(' ').match(/'ID\d+'/g)).toHaveLength(1000);
  });

  it("refuses an id like x') OR id CONTAINS ('y before any call", async () => {
    const client = clientFor(sim);
    const before = JSON.stringify(sim.calls);
    await expect(client.readStates('capa__c', ["x') OR id CONTAINS ('y"], [])).rejects.toMatchObject({
      kind: 'invalid-input',
    });
    await expect(client.bulkUpdate('capa__c', [{ id: "x' OR '1'='1", values: {} }])).rejects.toThrow(
      /invalid record id/,
    );
    await expect(client.bulkUpdate('capa__c', [{ id: 'C1', values: { state__v: 'approved' } }])).rejects.toThrow(
      /never written/,
    );
    expect(JSON.stringify(sim.calls)).toBe(before);
  });
});

describe('Vault responses and secrets', () => {
  it("parses Vault's documented example responses", () => {
    const fixtures = JSON.parse(
      fs.readFileSync(path.join(__dirname, 'fixtures/vault/documented-responses.json'), 'utf8'),
    );
    expect(AuthResponse.parse(fixtures.auth).vaultId).toBe(1776);
    expect(BulkUpdateResponse.parse(fixtures.bulkUpdate).data).toHaveLength(3);
    expect(BulkUpdateResponse.safeParse({ responseStatus: 'SUCCESS', ...fixtures.customerBulkUpdate }).success).toBe(
      true,
    );
    expect(QueryResponse.parse(fixtures.query).data).toHaveLength(2);
    expect(DOCUMENTED_DIALECT.objectPath).toBe('vobjects');
    expect(CUSTOMER_DIALECT.lockedErrorTypes).toContain('RECORD_LOCKED');
  });

  it('never puts the password or a session id in a log line or an error', async () => {
    const sim = await startSimulator({ faults: { sessionExpiryEveryCalls: 2, serverErrorRate: 0.3 }, seed: 7 });
    seedBasic(sim);
    const lines: string[] = [];
    const client = clientFor(sim, { logger: jsonLogger('debug', (l) => lines.push(l)), settings: { maxRetries: 1 } });
    const errors: string[] = [];
    for (let i = 0; i < 20; i++) {
      await client
        .readStates('capa__c', ['R1'], [])
        .catch((e: Error) => errors.push(`${e.message} ${e.stack} ${JSON.stringify(e)}`));
    }
    await clientFor(sim, { settings: { password: 'wrong-secret' } })
      .readStates('capa__c', ['R1'], [])
      .catch((e: Error) => errors.push(`${e.message} ${e.stack} ${JSON.stringify(e)}`));
    const text = [...lines, ...errors].join('\n');
    expect(lines.length + errors.length).toBeGreaterThan(0);
    expect(sim.issuedSessionIds.length).toBeGreaterThan(5);
    for (const secret of ['simulator', 'wrong-secret', ...sim.issuedSessionIds]) expect(text).not.toContain(secret);
    await sim.stop();
  });
});
