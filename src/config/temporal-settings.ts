import fs from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/**
 * Temporal's connection settings, named and read as the SDK and the `temporal` CLI read them: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME (and their *_DATA forms), over the profile
 * TEMPORAL_PROFILE names (default "default") in the TOML file TEMPORAL_CONFIG_FILE names (default
 * ~/.config/temporalio/temporal.toml). docs/configuration.md says what each means.
 */
export const TEMPORAL_CONNECTION_SETTINGS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

/** Names capa-sync 0.1 used before it took the SDK's: refused with the name to use instead. */
const RENAMED: Record<string, string> = {
  TEMPORAL_TLS_CERT_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
};

export interface TemporalConnectionSettings {
  /** Where the frontend is, for messages. */
  address: string;
  namespace: string;
  options: Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'>;
}

/** Reads the connection settings; a problem is one line naming the setting, as the other settings' are. */
export function loadTemporalSettings(env: Record<string, string | undefined>): TemporalConnectionSettings {
  for (const [old, name] of Object.entries(RENAMED)) {
    if (env[old]) throw new Error(`${old}: renamed ${name}, as the Temporal SDK and CLI name it`);
  }
  if (env.TEMPORAL_CONFIG_FILE && !fs.existsSync(env.TEMPORAL_CONFIG_FILE)) {
    throw new Error(`TEMPORAL_CONFIG_FILE: no file at ${env.TEMPORAL_CONFIG_FILE}`);
  }
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: defined });
  } catch (err) {
    const message = (err as Error).message;
    const file = /ENOENT.*'(.*)'/.exec(message)?.[1];
    throw new Error(file ? `Temporal TLS settings: cannot read ${file}` : `Temporal connection settings: ${message}`);
  }
  const address = loaded.connectionOptions.address ?? 'localhost:7233';
  return {
    address,
    namespace: loaded.namespace ?? 'default',
    options: { ...loaded.connectionOptions, address },
  };
}
