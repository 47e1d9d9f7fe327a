import { DEFAULT_PASSWORD, DEFAULT_USERNAME } from '../../src/embedded-defaults';
import { VaultSimulator, SimulatorOptions } from '../../src/simulator/server';
import { VaultClient } from '../../src/vault/client';
import { VaultConnectionSettings, VaultHttp } from '../../src/vault/http';
import { DIALECTS, VaultDialect } from '../../src/vault/dialect';
import { Logger, silentLogger } from '../../src/logger';

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
