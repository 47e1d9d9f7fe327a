import { silentLogger } from '../src/observability/logger';
import { VaultClient } from '../src/vault/client';
import { DOCUMENTED_DIALECT } from '../src/vault/dialect';
import { VaultHttp } from '../src/vault/http';

// What the designs compared in the bench share, kept light: the plain script's process loads only this.

export const PRIORITIES = ['High', 'Medium', 'Low'];

/**
 * A Vault client of the simulator for the designs capa-sync is compared with: the same session and retries, and
 * `requestsAtOnce` requests of a call side by side (the plain script's 1: one after the other).
 */
export function simulatorClient(baseUrl: string, clientId: string, requestsAtOnce?: number): VaultClient {
  const settings = {
    baseUrl,
    username: 'sync.user@example.com',
    password: 'simulator',
    clientId,
    apiVersion: 'v23.2',
    timeoutMs: 30_000,
    maxRetries: 3,
    backoffBaseMs: 100,
    backoffMaxMs: 1000,
    burstLimitThreshold: 0,
    burstPauseMs: 0,
  };
  return new VaultClient(new VaultHttp(settings, silentLogger), DOCUMENTED_DIALECT, requestsAtOnce);
}

/** The values a round of the bench writes to record i: the priority turns each round, so that every write changes it. */
export const rowValues = (i: number, round: number) => ({
  priority__c: PRIORITIES[(i + round) % 3],
  risk_score__c: i % 101,
  due_date__c: '2027-04-30',
});
