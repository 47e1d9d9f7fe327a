import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from './config';

function connectionOptions(config: AppConfig['temporal']) {
  const tls = config.tls
    ? config.certPath && config.keyPath
      ? { clientCertPair: { crt: fs.readFileSync(config.certPath), key: fs.readFileSync(config.keyPath) } }
      : true
    : undefined;
  return { address: config.address, tls, apiKey: config.apiKey };
}

/** A client for starting workflows, schedules and operator messages. */
export async function connectClient(config: AppConfig['temporal']): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({ connection, namespace: config.namespace });
}

/** The worker's connection. */
export function connectWorker(config: AppConfig['temporal']): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}
