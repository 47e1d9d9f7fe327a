// simulator/: the Vault simulator: a real HTTP server in either dialect, with lifecycle locks that clear, reviewers,
// faults on demand and an audit log, for the demo, the tests, the bench and the chaos harness. Imports the layers below
// it.

import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import type { FieldValues } from '../contracts/field-values';
import { FaultConfig, FaultKind, NO_FAULTS, pickFault, seededRandom } from './faults';
import { LARGE_FIELDS } from './fields';
import { ScriptedUnlock, SimRecord, VaultStore } from './store';
import { DEFAULT_PASSWORD, DEFAULT_USERNAME } from './default-login';
import { CAPA_LOCKED_STATES, DIALECTS } from '../vault/dialect';
import { parseVql, VqlQuery, VqlSyntaxError } from './vql';
import { PortInUse } from '../host/port-holder';
import { readBulkBody, UnreadableBody } from './bulk-body';
import { CAPA_ID_PREFIX } from './seed';

export interface SimulatorOptions {
  port?: number;
  object?: string;
  lockedStates?: string[];
  /** How a locked record refuses a write: documented (an error type under HTTP 200) or customer (RECORD_LOCKED, 423). */
  dialect?: 'documented' | 'customer';
  /** The documented dialect's "locked" error type (which one a real vault uses is unconfirmed). */
  lockedErrorType?: string;
  username?: string;
  password?: string;
  vaultId?: number;
  pageSize?: number;
  largeRowPageSize?: number;
  faults?: Partial<FaultConfig>;
  seed?: number;
  now?: () => number;
}

interface Session {
  id: string;
  user: string;
  calls: number;
}

interface Reply {
  status: number;
  body: unknown;
  /** Vault answers JSON; a gateway's own error pages are plain text or HTML, and are labelled so. */
  contentType?: 'text/plain' | 'text/html';
}

/** Vault's message for a record whose values were all the same already. */
const NO_DATA_CHANGES = 'No changes in values - record not updated';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const failure = (type: string, message: string) => ({ responseStatus: 'FAILURE', errors: [{ type, message }] });

/** The simulated integration user's Vault user id. */
const USER_ID = 12021;

/** An error page as a gateway in front of Vault sends it. */
const gatewayPage = (status: number, title: string): Reply => ({
  status,
  contentType: 'text/html',
  body: `<html><head><title>${status} ${title}</title></head><body><h1>${title}</h1></body></html>`,
});

/** The address a request came to (http://host:port, from its Host header): Vault's answers name its own. */
function originOf(req: http.IncomingMessage, fallback: string): string {
  return req.headers.host ? `http://${req.headers.host}` : fallback;
}

/**
 * A Veeva Vault simulator: a real HTTP server speaking both API dialects, with records in lifecycle states,
 * locks that clear, faults on demand and an audit log. Admin endpoints (/admin/...) are not part of Vault's API.
 */
export class VaultSimulator {
  readonly store: VaultStore;
  readonly calls: Record<string, number> = {};
  /** Rows per bulk update request, in arrival order: lets tests and the benchmark check batching. */
  readonly updateRequestSizes: number[] = [];
  /** API requests being answered now, and the most there were at once. */
  private inFlight = 0;
  peakInFlight = 0;
  /** Faults injected, by kind (race conditions are counted per record). */
  readonly faultsInjected: Record<string, number> = {};
  faults: FaultConfig;
  private readonly sessions = new Map<string, Session>();
  private readonly issued: string[] = [];
  private readonly cursors = new Map<string, { rows: Record<string, unknown>[]; pageSize: number }>();
  private readonly random: () => number;
  private burstWindowStart = 0;
  private burstCalls = 0;
  private failedAuths = 0;
  private server?: http.Server;
  readonly options: Required<Omit<SimulatorOptions, 'faults' | 'port' | 'seed'>>;

  constructor(options: SimulatorOptions = {}) {
    this.options = {
      object: 'capa__c',
      lockedStates: CAPA_LOCKED_STATES,
      dialect: 'documented',
      lockedErrorType: 'OPERATION_NOT_ALLOWED',
      username: DEFAULT_USERNAME,
      password: DEFAULT_PASSWORD,
      vaultId: 1776,
      pageSize: 1000,
      largeRowPageSize: 200,
      now: Date.now,
      ...options,
    };
    this.faults = { ...NO_FAULTS, ...options.faults, next: [...(options.faults?.next ?? [])] };
    this.random = seededRandom(options.seed ?? 42);
    this.store = new VaultStore({
      object: this.options.object,
      lockedStates: this.options.lockedStates,
      now: this.options.now,
    });
  }

  /** Listens on loopback unless told otherwise (0.0.0.0 in a container). */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new PortInUse(port, 'the Vault simulator') : err),
      );
      this.server!.listen(port, host, resolve);
    });
    return this.baseUrl;
  }

  get baseUrl(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Every session id handed out: lets tests prove that none leaks into logs, errors or histories. */
  get issuedSessionIds(): string[] {
    return [...this.issued];
  }

  setFaults(faults: Partial<FaultConfig>): void {
    this.faults = { ...this.faults, ...faults, next: [...(faults.next ?? this.faults.next)] };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const raw = await readBody(req);
    const executionId = randomUUID();
    let reply: Reply;
    const admin = url.pathname.startsWith('/admin/');
    if (!admin) this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlight);
    try {
      reply = admin ? this.admin(req.method ?? 'GET', url, raw) : await this.api(req, url, raw, executionId, res);
    } catch (err) {
      reply =
        err instanceof HttpError
          ? { status: err.status, body: failure(err.type, err.message) }
          : { status: 500, body: failure('EXCEPTION', (err as Error).message) };
    } finally {
      if (!admin) this.inFlight--;
    }
    if (res.writableEnded) return;
    const body = reply.body as { responseStatus?: string };
    res.setHeader('X-VaultAPI-ExecutionId', executionId);
    if (body?.responseStatus) res.setHeader('X-VaultAPI-Status', body.responseStatus);
    res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'application/json' });
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  /** The race no integration can close: a reviewer's edit landing between its read and its update. */
  private applyEditsBeforeUpdate(rows: unknown[]): void {
    this.applyEdits(rows, this.faults.editsBeforeUpdate);
  }

  /** Applies each named record's edit once (a reviewer's); whether any was. */
  private applyEdits(rows: unknown[], edits: Record<string, FieldValues>): boolean {
    let applied = false;
    for (const row of rows) {
      const id = (row as { id?: unknown }).id;
      const edit = typeof id === 'string' ? edits[id] : undefined;
      if (!edit) continue;
      delete edits[id as string];
      this.store.editByHand(id as string, edit, 'reviewer@example.com');
      applied = true;
    }
    return applied;
  }

  /** A bulk update refused with a 429 while a reviewer edits one of its records (editsWhileRateLimited). */
  private async rateLimitedForAnEdit(raw: string, contentType: string | undefined): Promise<boolean> {
    if (!Object.keys(this.faults.editsWhileRateLimited).length) return false;
    const rows = await readBulkBody(raw, contentType).catch(() => undefined);
    return Array.isArray(rows) && this.applyEdits(rows, this.faults.editsWhileRateLimited);
  }

  private noteFault(kind: string): void {
    this.faultsInjected[kind] = (this.faultsInjected[kind] ?? 0) + 1;
  }

  private count(endpoint: string): void {
    this.calls[endpoint] = (this.calls[endpoint] ?? 0) + 1;
  }

  /** Vault's API: the two dialects' paths, session checks, burst headers and faults. */
  private async api(
    req: http.IncomingMessage,
    url: URL,
    raw: string,
    executionId: string,
    res: http.ServerResponse,
  ): Promise<Reply> {
    const m = /^\/api\/(v\d+\.\d+)(?:\/(.*))?$/.exec(url.pathname);
    if (!m) throw new HttpError(404, 'MALFORMED_URL', `unknown path ${url.pathname}`);
    const [, version, rest = ''] = m;
    const origin = originOf(req, this.baseUrl);
    const method = req.method ?? 'GET';
    const endpoint = this.endpointName(method, rest);
    this.count(endpoint);
    await this.applyBurstLimit(res);
    if (this.faults.latencyMs) await sleep(this.faults.latencyMs);
    if (this.faults.spikeRate > 0 && this.random() < this.faults.spikeRate) await sleep(this.faults.spikeMs);

    if (endpoint === 'auth') return this.auth(raw, req.headers['content-type'], origin);
    const editedWhileRefused =
      endpoint === 'bulkUpdate' && (await this.rateLimitedForAnEdit(raw, req.headers['content-type']));
    const fault = editedWhileRefused ? 'http429' : pickFault(this.faults, this.random, endpoint === 'bulkUpdate');
    if (fault) this.noteFault(fault);
    const faulted = await this.faultReply(fault, res);
    if (faulted) return faulted;
    const session = this.session(req.headers.authorization, fault === 'expire-session');
    this.nameSession(res, session);

    switch (endpoint) {
      case 'resources':
        return this.resources(`${origin}/api/${version}`);
      case 'keepAlive':
        return { status: 200, body: { responseStatus: 'SUCCESS' } };
      case 'bulkUpdate': {
        const reply = await this.bulkUpdate(raw, req.headers['content-type'], url.pathname, session.user, executionId);
        if (fault !== 'lost-answer') return reply;
        // Applied, but the answer arrives after the client gave up (as a gateway timeout would lose it).
        await this.hold();
        return gatewayPage(504, 'Gateway Time-out');
      }
      case 'getRecord':
        return this.getRecord(rest.split('/')[2], url.pathname, version);
      case 'lock':
        return this.lock(rest.split('/')[2]);
      case 'query':
        return this.query(new URLSearchParams(raw).get('q') ?? url.searchParams.get('q') ?? '', version);
      case 'queryPage':
        return this.queryPage(rest.split('/')[1], Number(url.searchParams.get('pageoffset') ?? 0), version);
      default:
        throw new HttpError(404, 'MALFORMED_URL', `unknown path ${url.pathname}`);
    }
  }

  private endpointName(method: string, rest: string): string {
    const parts = rest.split('/');
    const objectPath = (parts[0] === 'vobjects' || parts[0] === 'objects') && parts[1] === this.options.object;
    if (method === 'GET' && rest === '') return 'resources';
    if (method === 'POST' && rest === 'auth') return 'auth';
    if (method === 'POST' && rest === 'keep-alive') return 'keepAlive';
    if (method === 'POST' && rest === 'query') return 'query';
    // Veeva documents next_page with POST; its own Java library follows it with GET.
    if ((method === 'GET' || method === 'POST') && parts[0] === 'query' && parts.length === 2) return 'queryPage';
    if (objectPath && method === 'PUT' && parts.length === 2) return 'bulkUpdate';
    if (objectPath && method === 'GET' && parts.length === 3) return 'getRecord';
    if (objectPath && method === 'GET' && parts.length === 4 && parts[3] === 'lock') return 'lock';
    return 'unknown';
  }

  private async applyBurstLimit(res: http.ServerResponse): Promise<void> {
    const now = Date.now();
    if (now - this.burstWindowStart >= this.faults.burstWindowMs) {
      this.burstWindowStart = now;
      this.burstCalls = 0;
    }
    this.burstCalls++;
    const remaining = Math.max(0, this.faults.burstLimit - this.burstCalls);
    res.setHeader('X-VaultAPI-BurstLimit', String(this.faults.burstLimit));
    res.setHeader('X-VaultAPI-BurstLimitRemaining', String(remaining));
    if (this.burstCalls > this.faults.burstLimit) {
      res.setHeader('X-VaultAPI-ResponseDelay', String(this.faults.burstDelayMs));
      await sleep(this.faults.burstDelayMs);
    }
  }

  private async faultReply(fault: FaultKind | undefined, res: http.ServerResponse): Promise<Reply | undefined> {
    switch (fault) {
      case 'http500':
        return { status: 500, contentType: 'text/plain', body: 'Internal Server Error' };
      case 'http503':
        return gatewayPage(503, 'Service Unavailable');
      case 'malformed':
        return { status: 200, body: '{"responseStatus": "SUCCESS", "data": [' };
      case 'http429':
        res.setHeader('Retry-After', String(this.faults.retryAfterSeconds));
        return { status: 429, body: failure('API_LIMIT_EXCEEDED', 'too many requests') };
      case 'exception':
        return {
          status: 200,
          body: { responseStatus: 'EXCEPTION', errors: [{ type: 'EXCEPTION', message: 'internal error' }] },
        };
      case 'hang':
        await this.hold();
        return gatewayPage(504, 'Gateway Time-out');
      default:
        return undefined;
    }
  }

  /** Holds a response for hangMs; unreferenced, so that a held response never keeps a test process alive. */
  private hold(): Promise<void> {
    return sleep(this.faults.hangMs, undefined, { ref: false });
  }

  private auth(raw: string, contentType: string | undefined, origin: string): Reply {
    const form = new URLSearchParams(contentType?.includes('json') ? '' : raw);
    if (this.failedAuths >= 5)
      return { status: 200, body: failure('API_LIMIT_EXCEEDED', 'too many failed authentications') };
    if (form.get('username') !== this.options.username || form.get('password') !== this.options.password) {
      this.failedAuths++;
      return { status: 200, body: failure('USERNAME_OR_PASSWORD_INCORRECT', 'Authentication failed for user') };
    }
    const sessionId = randomUUID().replace(/-/g, '').toUpperCase();
    this.sessions.set(sessionId, { id: sessionId, user: this.options.username, calls: 0 });
    this.issued.push(sessionId);
    const { vaultId } = this.options;
    return {
      status: 200,
      body: {
        responseStatus: 'SUCCESS',
        sessionId,
        userId: USER_ID,
        vaultId,
        vaultIds: [{ id: vaultId, name: 'Simulated QMS', url: `${origin}/api` }],
      },
    };
  }

  private session(authorization: string | undefined, forceExpiry: boolean): Session {
    const id = (authorization ?? '').replace(/^Bearer\s+/i, '');
    const session = this.sessions.get(id);
    const every = this.faults.sessionExpiryEveryCalls;
    if (session && (forceExpiry || (every > 0 && session.calls >= every))) {
      this.sessions.delete(id);
      if (!forceExpiry) this.noteFault('session-expiry');
    }
    const live = this.sessions.get(id);
    if (!live) {
      const status = this.options.dialect === 'customer' ? 401 : 200;
      throw new HttpError(status, 'INVALID_SESSION_ID', 'Invalid or expired session ID.');
    }
    live.calls++;
    return live;
  }

  /** Vault names the user, the vault and a shortened session id on every answer to a session. */
  private nameSession(res: http.ServerResponse, session: Session): void {
    res.setHeader('X-VaultAPI-UserId', String(USER_ID));
    res.setHeader('X-VaultAPI-VaultId', String(this.options.vaultId));
    res.setHeader('X-VaultAPI-TruncatedSessionId', session.id.slice(0, 8));
  }

  /** GET /api/{version}: the resources this vault serves, by name, with their URLs in the version asked. */
  private resources(apiUrl: string): Reply {
    const names = ['auth', 'keep-alive', 'query', DIALECTS[this.options.dialect].objectPath];
    return {
      status: 200,
      body: { responseStatus: 'SUCCESS', values: Object.fromEntries(names.map((n) => [n, `${apiUrl}/${n}`])) },
    };
  }

  /** A bulk update at `path` (the object's URL as requested: each record's URL extends it). */
  private async bulkUpdate(
    raw: string,
    contentType: string | undefined,
    path: string,
    user: string,
    executionId: string,
  ): Promise<Reply> {
    let rows: unknown;
    try {
      rows = await readBulkBody(raw, contentType);
    } catch (err) {
      if (err instanceof UnreadableBody) return { status: 400, body: failure('MALFORMED_URL', err.message) };
      throw err;
    }
    if (!Array.isArray(rows)) return { status: 200, body: failure('INVALID_DATA', 'body must be a JSON array') };
    if (rows.length > 500)
      return { status: 200, body: failure('INVALID_DATA', `at most 500 records per request, got ${rows.length}`) };
    this.updateRequestSizes.push(rows.length);
    this.applyEditsBeforeUpdate(rows);
    const customer = this.options.dialect === 'customer';
    const lockedType = customer ? 'RECORD_LOCKED' : this.options.lockedErrorType;
    const results = this.store.update(rows, user, executionId, lockedType, () => {
      const race = this.faults.raceConditionRate > 0 && this.random() < this.faults.raceConditionRate;
      if (race) this.noteFault('raceCondition');
      return race;
    });
    const record = (id: string) => ({ id, url: `${path}/${id}` });
    const data = results.map((r) => {
      if (r.kind === 'updated') return { responseStatus: 'SUCCESS', data: record(r.id) };
      if (r.kind === 'unchanged')
        return {
          responseStatus: 'WARNING',
          warnings: [{ warning_type: 'NO_DATA_CHANGES', message: NO_DATA_CHANGES }],
          data: record(r.id),
        };
      return { responseStatus: 'FAILURE', errors: [{ type: r.type, message: r.message }] };
    });
    const allLocked = results.length > 0 && results.every((r) => r.kind === 'failed' && r.locked);
    // A record that warned makes the whole answer a WARNING (Vault's v24.3 example); failures alone leave SUCCESS.
    const warned = results.some((r) => r.kind === 'unchanged');
    const top = warned
      ? { responseStatus: 'WARNING', warnings: [{ warning_type: 'NO_DATA_CHANGES', message: NO_DATA_CHANGES }] }
      : { responseStatus: 'SUCCESS' };
    return { status: customer && allLocked ? 423 : 200, body: { ...top, data } };
  }

  /** One record at `path` (its URL as requested), with the object it belongs to. */
  private getRecord(id: string, path: string, version: string): Reply {
    const rec = this.store.read(id);
    if (!rec) return { status: 200, body: failure('INVALID_DATA', `record ${id} not found`) };
    const { object } = this.options;
    return {
      status: 200,
      body: {
        responseStatus: 'SUCCESS',
        responseDetails: {
          url: path,
          object: {
            url: `/api/${version}/metadata/vobjects/${object}`,
            label: 'CAPA',
            label_plural: 'CAPAs',
            name: object,
            prefix: CAPA_ID_PREFIX,
          },
        },
        data: toRow(rec),
      },
    };
  }

  private lock(id: string): Reply {
    if (this.options.dialect !== 'customer')
      throw new HttpError(404, 'MALFORMED_URL', 'no lock endpoint in the documented API');
    if (this.faults.failingLocks.includes(id)) throw new HttpError(500, 'EXCEPTION', `lock of ${id} failed`);
    if (this.faults.missingLocks.includes(id)) throw new HttpError(404, 'NOT_FOUND', `no record ${id}`);
    const rec = this.store.read(id);
    if (!rec) return { status: 200, body: failure('INVALID_DATA', `record ${id} not found`) };
    const locked = this.store.isLocked(rec);
    return {
      status: 200,
      body: {
        responseStatus: 'SUCCESS',
        data: { locked, locked_by: locked ? rec.lockedBy : null, locked_since: locked ? rec.lockedSince : null },
      },
    };
  }

  private query(q: string, version: string): Reply {
    let query: VqlQuery;
    try {
      query = parseVql(q);
    } catch (err) {
      if (err instanceof VqlSyntaxError)
        return { status: 200, body: failure('INCORRECT_QUERY_SYNTAX_ERROR', err.message) };
      throw err;
    }
    if (query.object !== this.options.object)
      return { status: 200, body: failure('INCORRECT_QUERY_SYNTAX_ERROR', `unknown object ${query.object}`) };
    const matches = this.matching(query);
    const rows = matches.map((rec) => {
      const full = toRow(rec);
      return Object.fromEntries(query.fields.map((f) => [f, full[f] ?? null]));
    });
    const largestPage = query.fields.some((f) => LARGE_FIELDS.has(f))
      ? this.options.largeRowPageSize
      : this.options.pageSize;
    // Vault shrinks the pages of large rows, PAGESIZE or not.
    const pageSize = Math.min(query.pageSize ?? largestPage, largestPage);
    const cursor = randomUUID();
    this.cursors.set(cursor, { rows, pageSize });
    return this.queryPage(cursor, 0, version);
  }

  private matching(query: VqlQuery): SimRecord[] {
    const { where } = query;
    if (!where) return [...this.store.records.keys()].map((id) => this.store.read(id)!);
    if (where.kind === 'contains' && where.field === 'id')
      return where.values.map((id) => this.store.read(id)).filter((r): r is SimRecord => !!r);
    const all = [...this.store.records.keys()].map((id) => this.store.read(id)!);
    return all.filter((rec) => {
      const value = String(toRow(rec)[where.field] ?? '');
      return where.kind === 'contains' ? where.values.includes(value) : value === where.value;
    });
  }

  private queryPage(cursor: string, offset: number, version: string): Reply {
    const result = this.cursors.get(cursor);
    if (!result) return { status: 200, body: failure('INVALID_DATA', 'query cursor expired') };
    const data = result.rows.slice(offset, offset + result.pageSize);
    const nextOffset = offset + result.pageSize;
    const more = nextOffset < result.rows.length;
    if (!more) this.cursors.delete(cursor);
    return {
      status: 200,
      body: {
        responseStatus: 'SUCCESS',
        responseDetails: {
          pagesize: result.pageSize,
          pageoffset: offset,
          size: data.length,
          total: result.rows.length,
          ...(more
            ? { next_page: `/api/${version}/query/${cursor}?pagesize=${result.pageSize}&pageoffset=${nextOffset}` }
            : {}),
        },
        data,
      },
    };
  }

  /** Not Vault's API: seed records, move states, edit as a reviewer, read the audit log and call counts. */
  private admin(method: string, url: URL, raw: string): Reply {
    const body = raw ? JSON.parse(raw) : {};
    const parts = url.pathname.split('/').filter(Boolean);
    if (method === 'POST' && url.pathname === '/admin/records') {
      this.store.seed(body.records);
      return { status: 200, body: { seeded: body.records.length } };
    }
    if (parts[1] === 'records' && parts[2]) {
      const rec = this.store.get(parts[2]);
      if (!rec) throw new HttpError(404, 'INVALID_DATA', `record ${parts[2]} not found`);
      if (method === 'GET') return { status: 200, body: rec };
      if (method === 'PATCH') {
        if (body.fields) this.store.editByHand(rec.id, body.fields, body.user ?? 'reviewer@example.com');
        if (body.state) this.store.moveState(rec, body.state);
        if (body.unlock) rec.unlock = body.unlock as ScriptedUnlock;
        return { status: 200, body: rec };
      }
    }
    if (method === 'GET' && url.pathname === '/admin/audit') {
      const recordId = url.searchParams.get('recordId');
      return { status: 200, body: this.store.audit.filter((a) => !recordId || a.recordId === recordId) };
    }
    if (method === 'GET' && url.pathname === '/admin/stats') {
      return {
        status: 200,
        body: { calls: this.calls, updateRequestSizes: this.updateRequestSizes, records: this.store.records.size },
      };
    }
    if (method === 'PUT' && url.pathname === '/admin/faults') {
      this.setFaults(body);
      return { status: 200, body: this.faults };
    }
    throw new HttpError(404, 'MALFORMED_URL', `unknown admin path ${url.pathname}`);
  }
}

function toRow(rec: SimRecord): Record<string, unknown> {
  return { id: rec.id, state__v: rec.state__v, status__v: [rec.status__v], ...rec.fields };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
