import http from 'node:http';
import { DEFAULT_PASSWORD, DEFAULT_USERNAME } from '../../src/simulator/default-login';
import { VaultSimulator, SimulatorOptions } from '../../src/simulator/server';
import { VaultClient } from '../../src/vault/client';
import { VaultConnectionSettings, VaultHttp } from '../../src/vault/http';
import { DIALECTS, VaultDialect } from '../../src/vault/dialect';
import { Logger, silentLogger } from '../../src/observability/logger';

/** A simulator on a free port, stopped by the returned function. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<VaultSimulator> {
  const sim = new VaultSimulator(options);
  await sim.start();
  return sim;
}

export function connectionSettings(
  sim: VaultSimulator,
  overrides: Partial<VaultConnectionSettings> = {},
): VaultConnectionSettings {
  return {
    baseUrl: sim.baseUrl,
    apiVersion: 'v23.2',
    username: DEFAULT_USERNAME,
    password: DEFAULT_PASSWORD,
    clientId: 'capa-sync-tests',
    timeoutMs: 2_000,
    maxRetries: 4,
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    burstLimitThreshold: 0,
    burstPauseMs: 0,
    ...overrides,
  };
}

export function clientFor(
  sim: VaultSimulator,
  options: { dialect?: VaultDialect; settings?: Partial<VaultConnectionSettings>; logger?: Logger } = {},
): VaultClient {
  const dialect = options.dialect ?? DIALECTS[sim.options.dialect];
  return new VaultClient(
    new VaultHttp(connectionSettings(sim, options.settings), options.logger ?? silentLogger),
    dialect,
  );
}

/** One raw HTTP answer from the simulator: status, headers and body as sent, for tests of the wire format. */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Sends one request with node:http (which, unlike fetch, lets a test choose the Host header). */
export function rawCall(
  sim: VaultSimulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(sim.baseUrl + path, { method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Logs in with the simulator's default credentials at an API version; returns the session id. */
export async function rawLogin(sim: VaultSimulator, version: string): Promise<string> {
  const answer = await rawCall(sim, 'POST', `/api/${version}/auth`, {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: DEFAULT_USERNAME, password: DEFAULT_PASSWORD }).toString(),
  });
  return (JSON.parse(answer.text) as { sessionId: string }).sessionId;
}
