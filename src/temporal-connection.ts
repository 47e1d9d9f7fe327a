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

/** Temporal could not be reached: says where, and what to check (instead of the transport's own error text). */
export class TemporalUnreachable extends Error {
  constructor(address: string) {
    super(
      `cannot reach Temporal at ${address}: check TEMPORAL_ADDRESS and that the server is running` +
        ' (npm start runs a local one)',
    );
    this.name = 'TemporalUnreachable';
  }
}

async function reach<T>(config: AppConfig['temporal'], connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch {
    throw new TemporalUnreachable(config.address);
  }
}

/** A client for starting workflows, schedules and operator messages. */
export async function connectClient(config: AppConfig['temporal']): Promise<Client> {
  const connection = await reach(config, () => Connection.connect(connectionOptions(config)));
  return new Client({ connection, namespace: config.namespace });
}

/** The worker's connection. */
export function connectWorker(config: AppConfig['temporal']): Promise<NativeConnection> {
  return reach(config, () => NativeConnection.connect(connectionOptions(config)));
}
