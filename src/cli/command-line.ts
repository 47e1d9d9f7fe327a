// cli/: the capa-sync command: one module per command group, main only wiring them, the demo, and what operators do
// (operations.ts). Imports every layer below it.

import type { Command } from 'commander';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import type { AppConfig } from '../config';
import { silentLogger } from '../observability/logger';
import { openStore, type Store } from '../store/store';
import { connectClient } from '../temporal/connection';

// What every command shares: the exit codes and the errors that choose them, JSON or text output, and the store
// and Temporal client a command opens and closes. Each command group (batch-commands.ts, record-commands.ts,
// audit-command.ts, admin-commands.ts) registers its commands through a DefineCommand; src/cli.ts wires them.

/** Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration, 3 not found. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

export class UsageError extends Error {}
export class NotFound extends Error {}

/** Defines a subcommand whose action runs with the configuration from the environment and returns the exit code. */
export type DefineCommand = <Args extends unknown[]>(
  name: string,
  description: string,
  action: (config: AppConfig, ...args: Args) => Promise<number>,
) => Command;

/** Each command's options, as commander hands them over (camel-cased flags). */
export interface JsonOption {
  json?: boolean;
}

export const json = (o: JsonOption) => o.json === true;

export function output(json: boolean, data: unknown, human: string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human);
}

export async function withStore<T>(config: AppConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.databaseUrl, silentLogger);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function withClient<T>(config: AppConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(config.temporal);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** `label` is how the user writes it: "--source" or "<recordId>". */
export function required(value: string | undefined, label: string): string {
  if (typeof value !== 'string' || !value.trim()) throw new UsageError(`${label} is required`);
  return value;
}

export const notFound = (what: string | undefined) => (err: unknown) => {
  const name = (err as Error)?.name;
  if (err instanceof WorkflowNotFoundError || name === 'ScheduleNotFoundError' || name === 'WorkflowNotFoundError') {
    throw new NotFound(`${what}: not found`);
  }
  throw err;
};

export const collect = (value: string, previous: string[]) => [...previous, value];
