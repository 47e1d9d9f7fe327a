import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppConfig, controlQueueOf, loadConfig } from '../../src/config';
import type { VaultSimulator } from '../../src/simulator/server';
import { testDatabaseUrl } from './postgres';

/**
 * The production configuration, read by the production loader, pointed at a simulator, a fresh database and a
 * fresh data folder,
 * with fast retries and a short write-group window (each time-skipped tick waits for its group).
 */
export async function testConfig(sim: VaultSimulator, env: Record<string, string> = {}): Promise<AppConfig> {
  return loadConfig({
    CAPA_DATABASE_URL: await testDatabaseUrl(),
    VAULT_BASE_URL: sim.baseUrl,
    VAULT_DIALECT: sim.options.dialect,
    VAULT_BACKOFF_BASE_MS: '5',
    VAULT_BACKOFF_MAX_MS: '50',
    VAULT_TIMEOUT_MS: '2000',
    VAULT_GROUP_QUIET_MS: '20',
    VAULT_GROUP_HOLD_MS: '200',
    CAPA_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'capa-sync-test-')),
    LOG_LEVEL: 'error',
    ...env,
  });
}

/** The configuration of workers on another task queue, with its default control queue. */
export const onTaskQueue = (config: AppConfig, taskQueue: string): AppConfig => ({
  ...config,
  temporal: { ...config.temporal, taskQueue, controlTaskQueue: controlQueueOf(taskQueue) },
});
