import { setTimeout as sleep } from 'node:timers/promises';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import { ZodType } from 'zod';
import { VaultError } from './errors';
import { AuthResponse, Envelope } from './schemas';
import type { Logger } from '../observability/logger';

export interface VaultConnectionSettings {
  baseUrl: string;
  apiVersion: string;
  username: string;
  password: string;
  clientId: string;
  /** When set, a session opened on any other vault is refused (a wrong vaultDNS can do that). */
  expectedVaultId?: number;
  timeoutMs: number;
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Below this many calls left in the burst window, pause before each call. */
  burstLimitThreshold: number;
  burstPauseMs: number;
  /** After Vault refuses the credentials, no login is tried for this long (default 30 minutes). */
  authRetryMs?: number;
}

export interface VaultCallStats {
  calls: number;
  callsByKind: Record<string, number>;
  retries: number;
  reauthentications: number;
  /** Time spent waiting on Vault's burst delays, 429s and our own throttle, in ms. */
  delayedMs: number;
  burstLimitRemaining?: number;
}

export interface VaultRequest {
  kind: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  /**
   * A write: once it may have reached Vault, it is not sent again (a repeat would hear NO_DATA_CHANGES for our own
   * change). A VaultError of type OUTCOME_UNKNOWN tells the caller to read the records back instead.
   */
  write?: boolean;
  /**
   * Once, within this many ms: a call made for one record among many (a lock read in a write group or a watcher's
   * tick) fails fast for that record instead of holding the others through the retries.
   */
  onceWithinMs?: number;
  /**
   * A write whose values were checked against a read taken just before it (the conflict guard's): sent once. What
   * would send it again later (a 429's wait, a new session, a backoff) fails it instead, as transient, so that its
   * caller reads again before it writes.
   */
  sendOnce?: boolean;
}

export interface VaultResponse<T> {
  status: number;
  body: T;
}

/** Error type of a `sendOnce` write Vault refused before taking it (a 429, an expired session, not delivered). */
export const NOT_SENT = 'NOT_SENT';

/** Error type of a write that may or may not have been applied: its answer was lost or unreadable. */
export const OUTCOME_UNKNOWN = 'OUTCOME_UNKNOWN';
/** Socket errors raised before a request left this host: repeating it is safe even for a write. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * One authenticated HTTP channel to a vault: session handling, retries with backoff and jitter, burst-limit
 * throttling, 429 handling and call counts. The session id and password never leave this class.
 */
export class VaultHttp {
  readonly stats: VaultCallStats = { calls: 0, callsByKind: {}, retries: 0, reauthentications: 0, delayedMs: 0 };
  private readonly axios: AxiosInstance;
  private session?: Promise<string>;
  private pauseUntil = 0;
  /** Vault refused the credentials: every call fails with this until the time, without asking Vault again. */
  private refused?: { error: VaultError; until: number };

  constructor(
    private readonly settings: VaultConnectionSettings,
    private readonly logger: Logger,
    /** Told once each time Vault refuses the credentials (an alert): retrying would lock the user out. */
    private readonly onCredentialsRefused: (message: string) => void = () => {},
  ) {
    this.axios = axios.create({
      baseURL: settings.baseUrl.replace(/\/+$/, ''),
      timeout: settings.timeoutMs,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: (raw) => raw,
      headers: { 'X-VaultAPI-ClientID': settings.clientId, Accept: 'application/json' },
    });
  }

  get apiPrefix(): string {
    return `/api/${this.settings.apiVersion}`;
  }

  async request<T>(req: VaultRequest, schema: ZodType<T>): Promise<VaultResponse<T>> {
    let reauthenticated = false;
    for (let attempt = 0; ; attempt++) {
      const session = await this.sessionId();
      const outcome = await this.send(req, session);
      if (outcome.kind === 'ok') {
        const parsed = schema.safeParse(outcome.body);
        if (parsed.success) return { status: outcome.status, body: parsed.data };
        const reason = `malformed response body (${parsed.error.issues[0]?.message})`;
        if (req.write) throw outcomeUnknown(req, reason);
        await this.retryOrThrow(req, attempt, reason);
        continue;
      }
      if (outcome.kind === 'session-expired') {
        if (reauthenticated)
          throw new VaultError(
            'auth',
            `${req.kind}: session refused right after re-authentication`,
            'INVALID_SESSION_ID',
          );
        reauthenticated = true;
        this.stats.reauthentications++;
        if (this.session && (await this.session) === session) this.session = undefined;
        if (req.sendOnce) throw notSent(req, 'session expired');
        continue;
      }
      if (outcome.kind === 'rate-limited') {
        if (req.sendOnce) throw notSent(req, 'rate limited');
        if (req.onceWithinMs !== undefined) throw new VaultError('transient', `${req.kind}: rate limited`, 'HTTP_429');
        await this.wait(outcome.waitMs ?? this.backoffMs(attempt));
        if (attempt >= this.settings.maxRetries)
          throw new VaultError(
            'transient',
            `${req.kind}: still rate limited after ${attempt + 1} attempts`,
            'HTTP_429',
          );
        this.stats.retries++;
        continue;
      }
      if (req.write && outcome.delivered) throw outcomeUnknown(req, outcome.reason);
      await this.retryOrThrow(req, attempt, outcome.reason);
    }
  }

  private async retryOrThrow(req: VaultRequest, attempt: number, reason: string): Promise<void> {
    // A write reaches here only where it was not delivered (one that may have been throws OUTCOME_UNKNOWN before).
    if (req.sendOnce) throw notSent(req, reason);
    if (req.onceWithinMs !== undefined) throw new VaultError('transient', `${req.kind}: ${reason}`);
    if (attempt >= this.settings.maxRetries) {
      throw new VaultError('transient', `${req.kind}: ${reason} (gave up after ${attempt + 1} attempts)`);
    }
    this.stats.retries++;
    this.logger.warn('vault call failed, retrying', { call: req.kind, reason, attempt: attempt + 1 });
    await sleep(this.backoffMs(attempt));
  }

  private backoffMs(attempt: number): number {
    const ceiling = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private async wait(ms: number): Promise<void> {
    this.stats.delayedMs += ms;
    await sleep(ms);
  }

  private async send(
    req: VaultRequest,
    session: string | undefined,
  ): Promise<
    | { kind: 'ok'; status: number; body: unknown }
    | { kind: 'session-expired' }
    | { kind: 'rate-limited'; waitMs?: number }
    | { kind: 'retry'; reason: string; delivered: boolean }
  > {
    const throttle = this.pauseUntil - Date.now();
    if (throttle > 0) await this.wait(throttle);
    let res: AxiosResponse<string>;
    try {
      res = await this.axios.request({
        method: req.method,
        url: req.path,
        ...(req.onceWithinMs !== undefined ? { timeout: req.onceWithinMs } : {}),
        headers: {
          ...(session ? { Authorization: session } : {}),
          ...(req.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
          ...(req.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        data: req.form
          ? new URLSearchParams(req.form).toString()
          : req.json !== undefined
            ? JSON.stringify(req.json)
            : undefined,
      });
    } catch (err) {
      this.count(req.kind);
      // Only the error code: axios errors carry request headers, which hold the session id.
      const code = (err as { code?: string }).code ?? 'network error';
      const reason = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timed out' : code;
      return { kind: 'retry', reason, delivered: !NOT_SENT_CODES.has(code) };
    }
    this.count(req.kind);
    this.noteRateHeaders(res.headers as Record<string, string | undefined>);
    if (res.status === 429) {
      const retryAfter = Number(res.headers['retry-after']);
      return { kind: 'rate-limited', waitMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined };
    }
    if (res.status >= 500) return { kind: 'retry', reason: httpFailure(res), delivered: true };
    let body: unknown;
    try {
      body = JSON.parse(res.data);
    } catch {
      const reason = labelledNotJson(res) ? httpFailure(res) : `malformed JSON (HTTP ${res.status})`;
      return { kind: 'retry', reason, delivered: true };
    }
    const envelope = Envelope.safeParse(body);
    if (!envelope.success)
      return { kind: 'retry', reason: `malformed response body (HTTP ${res.status})`, delivered: true };
    const errorTypes = (envelope.data.errors ?? []).map((e) => e.type);
    if (res.status === 401 || errorTypes.includes('INVALID_SESSION_ID')) return { kind: 'session-expired' };
    if (errorTypes.includes('API_LIMIT_EXCEEDED')) return { kind: 'rate-limited' };
    if (envelope.data.responseStatus === 'EXCEPTION')
      return { kind: 'retry', reason: `Vault EXCEPTION ${errorTypes.join(',')}`, delivered: true };
    return { kind: 'ok', status: res.status, body };
  }

  private count(kind: string): void {
    this.stats.calls++;
    this.stats.callsByKind[kind] = (this.stats.callsByKind[kind] ?? 0) + 1;
  }

  private noteRateHeaders(headers: Record<string, string | undefined>): void {
    const delay = Number(headers['x-vaultapi-responsedelay']);
    if (delay > 0) this.stats.delayedMs += delay;
    const remaining = Number(headers['x-vaultapi-burstlimitremaining']);
    if (headers['x-vaultapi-burstlimitremaining'] !== undefined && Number.isFinite(remaining)) {
      this.stats.burstLimitRemaining = remaining;
      if (remaining < this.settings.burstLimitThreshold) this.pauseUntil = Date.now() + this.settings.burstPauseMs;
    }
  }

  private sessionId(): Promise<string> {
    if (this.refused && Date.now() < this.refused.until) return Promise.reject(this.refused.error);
    this.session ??= this.authenticate().catch((err) => {
      this.session = undefined;
      if (err instanceof VaultError && err.kind === 'auth') this.refuseCredentials(err);
      throw err;
    });
    return this.session;
  }

  /** Vault locks a user out after a few failed logins: a refused login is not tried again for a long while. */
  private refuseCredentials(err: VaultError): void {
    const until = Date.now() + (this.settings.authRetryMs ?? 30 * 60_000);
    const message = `${err.message}; no login is tried before ${new Date(until).toISOString()}: fix the credentials (VAULT_USERNAME, VAULT_PASSWORD) and restart the worker`;
    this.refused = { error: new VaultError('auth', message, err.errorType), until };
    this.logger.error('vault refused the credentials', { reason: err.message, retryAt: new Date(until).toISOString() });
    this.onCredentialsRefused(message);
  }

  private async authenticate(): Promise<string> {
    const req: VaultRequest = {
      kind: 'auth',
      method: 'POST',
      path: `${this.apiPrefix}/auth`,
      form: { username: this.settings.username, password: this.settings.password },
    };
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.send(req, undefined);
      if (outcome.kind === 'ok') {
        const auth = AuthResponse.safeParse(outcome.body);
        if (auth.success && auth.data.responseStatus === 'SUCCESS' && auth.data.sessionId) {
          const { expectedVaultId } = this.settings;
          if (expectedVaultId !== undefined && auth.data.vaultId !== expectedVaultId) {
            throw new VaultError(
              'auth',
              `authentication opened vault ${auth.data.vaultId}, expected vault ${expectedVaultId}`,
              'WRONG_VAULT',
            );
          }
          this.logger.info('vault session opened', { vaultId: auth.data.vaultId });
          return auth.data.sessionId;
        }
        const type = auth.success ? auth.data.errors?.[0]?.type : undefined;
        throw new VaultError(
          'auth',
          `authentication failed for user ${this.settings.username}: ${type ?? 'unexpected response'}`,
          type,
        );
      }
      if (outcome.kind === 'rate-limited') {
        // Vault answers API_LIMIT_EXCEEDED to logins after too many failed ones: asking again prolongs the lockout.
        if (outcome.waitMs === undefined || attempt >= this.settings.maxRetries)
          throw new VaultError(
            'auth',
            'authentication refused: API_LIMIT_EXCEEDED (too many logins)',
            'API_LIMIT_EXCEEDED',
          );
        await this.wait(outcome.waitMs);
        continue;
      }
      const reason = outcome.kind === 'retry' ? outcome.reason : 'HTTP 401';
      if (outcome.kind === 'session-expired')
        throw new VaultError('auth', `authentication failed for user ${this.settings.username}: ${reason}`);
      await this.retryOrThrow(req, attempt, reason);
    }
  }
}

/** The content type of a body labelled as something other than JSON (a gateway's text or HTML page), if any. */
function labelledNotJson(res: AxiosResponse<string>): string | undefined {
  const type = String(res.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  return type && !type.includes('json') ? type : undefined;
}

/** A failed answer in one line: its status, and what its body is when it is not Vault's JSON. */
function httpFailure(res: AxiosResponse<string>): string {
  const type = labelledNotJson(res);
  return type ? `HTTP ${res.status} with a ${type} body` : `HTTP ${res.status}`;
}

function outcomeUnknown(req: VaultRequest, reason: string): VaultError {
  return new VaultError('transient', `${req.kind}: ${reason}; Vault may have applied it`, OUTCOME_UNKNOWN);
}

function notSent(req: VaultRequest, reason: string): VaultError {
  return new VaultError('transient', `${req.kind}: ${reason}; not sent again`, NOT_SENT);
}
