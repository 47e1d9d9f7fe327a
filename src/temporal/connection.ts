// temporal/: Temporal as capa-sync runs it: connections, the pinned binaries and the dev server, the runtime and
// metrics, the nightly Schedule, the listing of record workflows and the start of the lock watcher. Imports the layers
// below it.

import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../config';
import { commandOrigin } from '../host/command-origin';

/** Temporal could not be reached: says where, and which settings to check (instead of the transport's own text). */
export class TemporalUnreachable extends Error {
  constructor(address: string, cause: unknown) {
    const text = String((cause as Error)?.message ?? cause);
    const check = /certificate|tls|ssl|handshake|x509|pem/i.test(text)
      ? 'the TLS handshake failed: check TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_NAME'
      : /unauthenticated|api key|permission denied/i.test(text)
        ? 'the server refused the credentials: check TEMPORAL_API_KEY or the client certificate'
        : 'check TEMPORAL_ADDRESS and that the server is running (npm start runs a local one)';
    super(`cannot reach Temporal at ${address}: ${check}`);
    this.name = 'TemporalUnreachable';
  }
}

async function reach<T>(config: AppConfig['temporal'], connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    throw new TemporalUnreachable(config.address, err);
  }
}

/**
 * A client for starting workflows, schedules and operator messages. Its identity, which Temporal records with each
 * workflow start, signal and update, names the account, host and process it runs as.
 */
export async function connectClient(config: AppConfig['temporal']): Promise<Client> {
  const connection = await reach(config, () => Connection.connect(config.options));
  const { account, host } = commandOrigin();
  const identity = `capa-sync ${account}@${host} pid ${process.pid}`;
  return new Client({ connection, namespace: config.namespace, identity });
}

/** The worker's connection. */
export function connectWorker(config: AppConfig['temporal']): Promise<NativeConnection> {
  return reach(config, () => NativeConnection.connect(config.options));
}
