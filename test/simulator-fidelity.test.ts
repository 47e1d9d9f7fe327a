import { VaultSimulator } from '../src/simulator/server';
import { DIALECTS } from '../src/vault/dialect';
import { RawAnswer, rawCall, rawLogin, startSimulator } from './helpers/vault';

// What an independent Vault client (Veeva's VAPIL 24.3.1, API v24.3) tripped on: the simulator's raw answers,
// status, headers and body, in both dialects. The version differs from capa-sync's own (v23.2) on purpose: every URL
// the simulator writes must carry the version the request used.
const VERSION = 'v24.3';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

const json = <T = unknown>(answer: RawAnswer) => JSON.parse(answer.text) as T;

function seed(sim: VaultSimulator): void {
  sim.store.seed([
    { id: 'R1', state__v: 'in_progress_state__c', fields: { priority__c: 'Low' } },
    { id: 'R2', state__v: 'in_progress_state__c', fields: { priority__c: 'High' } },
    { id: 'R3', state__v: 'under_review_state__c', fields: { priority__c: 'Low' } },
    { id: 'R4', state__v: 'in_progress_state__c', fields: { priority__c: 'Low' } },
    { id: 'R5', state__v: 'in_progress_state__c', fields: { priority__c: 'Low' } },
  ]);
}

describe.each(['documented', 'customer'] as const)('the simulator answers as Vault does, %s dialect', (dialect) => {
  const records = `/api/${VERSION}/${DIALECTS[dialect].objectPath}/capa__c`;
  let sim: VaultSimulator;
  let session: string;

  beforeEach(async () => {
    sim = await startSimulator({ dialect });
    seed(sim);
    session = await rawLogin(sim, VERSION);
  });
  afterEach(() => sim.stop());

  const call = (method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}) =>
    rawCall(sim, method, path, { ...options, headers: { Authorization: session, ...options.headers } });
  const putJson = (rows: unknown[]) =>
    call('PUT', records, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(rows) });
  const query = (q: string) =>
    call('POST', `/api/${VERSION}/query`, { headers: FORM, body: new URLSearchParams({ q }).toString() });

  it('answers a login with the URL the request came to', async () => {
    const login = (headers: Record<string, string>) =>
      rawCall(sim, 'POST', `/api/${VERSION}/auth`, {
        headers: { ...FORM, ...headers },
        body: new URLSearchParams({ username: sim.options.username, password: sim.options.password }).toString(),
      });
    expect(json(await login({}))).toMatchObject({
      responseStatus: 'SUCCESS',
      vaultId: 1776,
      vaultIds: [{ id: 1776, url: `${sim.baseUrl}/api` }],
    });
    expect(json(await login({ Host: 'vault.example.test:8443' }))).toMatchObject({
      vaultIds: [{ url: 'http://vault.example.test:8443/api' }],
    });
  });

  it("lists the API's resources at GET /api/{version}, in that version, to a session only", async () => {
    const answer = await call('GET', `/api/${VERSION}`);
    expect(answer.status).toBe(200);
    const base = `${sim.baseUrl}/api/${VERSION}`;
    expect(json(answer)).toEqual({
      responseStatus: 'SUCCESS',
      values: {
        auth: `${base}/auth`,
        'keep-alive': `${base}/keep-alive`,
        query: `${base}/query`,
        [DIALECTS[dialect].objectPath]: `${base}/${DIALECTS[dialect].objectPath}`,
      },
    });
    const anonymous = await rawCall(sim, 'GET', `/api/${VERSION}`);
    expect(json(anonymous)).toMatchObject({ responseStatus: 'FAILURE', errors: [{ type: 'INVALID_SESSION_ID' }] });
  });

  it('answers a bulk update in which a record warned with a top-level WARNING, its URLs in the version asked', async () => {
    const answer = await putJson([
      { id: 'R1', priority__c: 'High' },
      { id: 'R2', priority__c: 'High' },
      { id: 'R4', priority__c: 'Urgent' },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-vaultapi-status']).toBe('WARNING');
    expect(json(answer)).toEqual({
      responseStatus: 'WARNING',
      warnings: [{ warning_type: 'NO_DATA_CHANGES', message: expect.any(String) }],
      data: [
        { responseStatus: 'SUCCESS', data: { id: 'R1', url: `${records}/R1` } },
        {
          responseStatus: 'WARNING',
          warnings: [{ warning_type: 'NO_DATA_CHANGES', message: expect.any(String) }],
          data: { id: 'R2', url: `${records}/R2` },
        },
        { responseStatus: 'FAILURE', errors: [{ type: 'INVALID_DATA', message: expect.any(String) }] },
      ],
    });
    // Without a warning, the top level stays SUCCESS, whatever failed.
    const noWarning = await putJson([
      { id: 'R1', priority__c: 'Medium' },
      { id: 'R4', priority__c: 'Urgent' },
    ]);
    expect(json(noWarning)).toMatchObject({ responseStatus: 'SUCCESS' });
    expect(json(noWarning)).not.toHaveProperty('warnings');
  });

  it('takes a bulk update as CSV (quoted commas, quotes and line breaks) and answers as for the same JSON', async () => {
    const csv =
      'id,owner__c,risk_score__c,description__c\r\nR1,"Smith, ""QA""",55,"two\nlines"\r\nR2,,7,plain\r\nR3,x,1,y\r\n';
    const rows = [
      { id: 'R1', owner__c: 'Smith, "QA"', risk_score__c: 55, description__c: 'two\nlines' },
      { id: 'R2', owner__c: null, risk_score__c: 7, description__c: 'plain' },
      { id: 'R3', owner__c: 'x', risk_score__c: 1, description__c: 'y' },
    ];
    const twin = await startSimulator({ dialect });
    seed(twin);
    const twinSession = await rawLogin(twin, VERSION);
    const fromJson = await rawCall(twin, 'PUT', records, {
      headers: { Authorization: twinSession, 'Content-Type': 'application/json' },
      body: JSON.stringify(rows),
    });
    await twin.stop();

    const fromCsv = await call('PUT', records, { headers: { 'Content-Type': 'text/csv' }, body: csv });
    expect(fromCsv.status).toBe(fromJson.status);
    expect(json(fromCsv)).toEqual(json(fromJson));
    expect(json(fromCsv)).toMatchObject({ data: [{ responseStatus: 'SUCCESS' }, { responseStatus: 'SUCCESS' }, {}] });
    expect(sim.store.records.get('R1')!.fields).toEqual(twin.store.records.get('R1')!.fields);
    const { id: _id, ...r1 } = rows[0];
    expect(sim.store.records.get('R1')!.fields).toMatchObject(r1);
  });

  it.each([
    ['http500', 500, 'text/plain'],
    ['http503', 503, 'text/html'],
    ['hang', 504, 'text/html'],
    ['lost-answer', 504, 'text/html'],
  ] as const)('labels the %s answer (not JSON) with its real content type', async (fault, status, type) => {
    sim.setFaults({ next: [fault], hangMs: 50 });
    const answer = await putJson([{ id: 'R1', priority__c: 'High' }]);
    expect([answer.status, answer.headers['content-type']]).toEqual([status, expect.stringMatching(`^${type}`)]);
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it('pages a query by its PAGESIZE, and so does next_page', async () => {
    type Page = { responseDetails: { pagesize: number; size: number; total: number; next_page?: string }; data: [] };
    const pages = [json<Page>(await query('SELECT id FROM capa__c PAGESIZE 2'))];
    for (let next = pages[0].responseDetails.next_page; next; next = pages.at(-1)!.responseDetails.next_page) {
      expect(next).toMatch(new RegExp(`^/api/${VERSION}/query/.+pagesize=2`));
      pages.push(json<Page>(await call('GET', next)));
    }
    expect(pages.map((p) => [p.responseDetails.pagesize, p.responseDetails.size, p.responseDetails.total])).toEqual([
      [2, 2, 5],
      [2, 2, 5],
      [2, 1, 5],
    ]);
    expect(pages.flatMap((p) => p.data)).toEqual(['R1', 'R2', 'R3', 'R4', 'R5'].map((id) => ({ id })));
    const filtered = json<Page>(
      await query("SELECT id FROM capa__c WHERE state__v = 'in_progress_state__c' PAGESIZE 3"),
    );
    expect(filtered.responseDetails).toMatchObject({ pagesize: 3, size: 3, total: 4 });
  });

  it('names the user, the vault and a truncated session on authenticated answers only', async () => {
    const answer = await call('GET', `${records}/R1`);
    expect(answer.headers).toMatchObject({ 'x-vaultapi-userid': '12021', 'x-vaultapi-vaultid': '1776' });
    const truncated = String(answer.headers['x-vaultapi-truncatedsessionid']);
    expect(session.startsWith(truncated) && truncated.length > 0 && truncated.length < session.length).toBe(true);
    const anonymous = await rawCall(sim, 'GET', `${records}/R1`);
    expect(anonymous.headers['x-vaultapi-userid']).toBeUndefined();
    expect(anonymous.headers['x-vaultapi-truncatedsessionid']).toBeUndefined();
  });

  it('reads one record with its object and its URL in the version asked', async () => {
    expect(json(await call('GET', `${records}/R1`))).toEqual({
      responseStatus: 'SUCCESS',
      responseDetails: {
        url: `${records}/R1`,
        object: expect.objectContaining({ name: 'capa__c', url: `/api/${VERSION}/metadata/vobjects/capa__c` }),
      },
      data: { id: 'R1', state__v: 'in_progress_state__c', status__v: ['active__v'], priority__c: 'Low' },
    });
  });
});
