import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { AppConfig, loadConfig } from './config';
import { createActivities } from './activities';
import { AuditTrail } from './audit/audit-trail';
import { createAlertChannel } from './alerts/create-alert-channel';
import { jsonLogger, Logger } from './logger';
import { VaultClient } from './vault/client';
import { CoalescingVaultClient } from './vault/coalescing-client';
import { VaultHttp } from './vault/http';
import { connectWorker } from './temporal-connection';

/** The worker's side effects, built once per process: one Vault session and coalescer for all activities. */
export function buildActivities(config: AppConfig, logger: Logger) {
  const http = new VaultHttp(config.vault, logger);
  const client = new VaultClient(http, config.vault.dialect);
  const vault = new CoalescingVaultClient(client, config.vault.coalesce);
  const activities = createActivities({
    vault,
    dialect: config.vault.dialect,
    audit: new AuditTrail(path.join(config.dataDir, 'audit')),
    alerts: createAlertChannel(config.alerts, logger),
    logger,
  });
  return { activities, vaultStats: http.stats };
}

/**
 * Waiting records' activities are short and I/O-bound, and they must all be in flight at once for their reads
 * to share one Vault query per tick: the default limit (100) would split a tick of 1,000 records into ten.
 */
export const WORKER_TUNING = { maxConcurrentActivityTaskExecutions: 2000 } as const;

/** Creates the worker that runs every capa-sync workflow and activity on the configured task queue. */
export async function createWorker(config: AppConfig, connection: NativeConnection, logger: Logger): Promise<Worker> {
  const { activities } = buildActivities(config, logger);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities,
    ...WORKER_TUNING,
  });
}

export async function runWorker(config: AppConfig = loadConfig()): Promise<void> {
  const logger = jsonLogger(config.logLevel);
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker(config, connection, logger);
  logger.info('worker started', { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace });
  await worker.run();
  await connection.close();
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(`worker: ${(err as Error).message}`);
    process.exit(1);
  });
}
