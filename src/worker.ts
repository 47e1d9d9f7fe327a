import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { sampleGauges, SyncMetrics, syncMetrics } from './temporal/metrics';
import { AppConfig, loadConfig } from './config';
import { createActivities } from './activities';
import { AlertRouter, type EnqueueAlert } from './alerts/alert-router';
import { startAlertDelivery } from './alerts/alert-delivery';
import { jsonLogger, Logger } from './observability/logger';
import { VaultClient } from './vault/client';
import { VaultHttp } from './vault/http';
import { connectClient, connectWorker } from './temporal/connection';
import { installRuntime } from './temporal/runtime';
import { Client } from '@temporalio/client';
import { openStore, Store } from './store/store';
import { loadSigner } from './config/load-signer';
import { startOrMoveLockWatcher } from './temporal/record-workflows';
import { missingSearchAttributes } from './temporal/search-attributes';

/** The configured object's lock watcher: on the control task queue, ticking on the first polling interval. */
export const watcherOf = (config: AppConfig) => ({
  object: config.vault.object,
  taskQueue: config.temporal.controlTaskQueue,
  tickSeconds: config.record.tickScheduleSeconds[0],
});

/**
 * The worker's side effects, built once per process: one Vault session and write group for all activities. Alerts
 * go to the store's outbox (`enqueueAlert` replaces it in tests), which the process's delivery loop empties.
 */
export function buildActivities(
  config: AppConfig,
  services: { logger: Logger; temporal: Client; store: Store; enqueueAlert?: EnqueueAlert },
) {
  const outbox = services.store.alertOutbox;
  const alerts = new AlertRouter(config.alerts.routing, services.enqueueAlert ?? outbox.enqueue.bind(outbox));
  const http = new VaultHttp(config.vault, services.logger, (message) => {
    const alert = { title: 'capa-sync: Vault refused the credentials', lines: [message], fields: { kind: 'auth' } };
    // At most one an hour: the session is refused again at each attempt until someone fixes the credentials.
    const hour = new Date().toISOString().slice(0, 13);
    alerts
      .toOperators(`vault-auth/${hour}`, alert)
      .catch((err) => services.logger.error('alert failed', { error: err }));
  });
  const vault = new VaultClient(http, config.vault.dialect, config.batch.updateConcurrency);
  const activities = createActivities({
    vault,
    groupWindow: config.vault.groupWindow,
    dialect: config.vault.dialect,
    temporal: services.temporal,
    taskQueue: config.temporal.taskQueue,
    controlTaskQueue: config.temporal.controlTaskQueue,
    object: config.vault.object,
    mapping: config.mapping,
    recordOptions: config.record,
    store: services.store,
    signer: loadSigner(config.audit, services.logger),
    gate: config.gate,
    approvalTimeoutSeconds: config.approvalTimeoutSeconds,
    watchWindow: config.watchWindow,
    reportsDir: path.join(config.dataDir, 'reports'),
    pageSize: config.batch.pageSize,
    sourceMaxBytes: config.batch.sourceMaxBytes,
    alerts,
    logger: services.logger,
    metrics: processMetrics(),
  });
  return { activities, vaultStats: http.stats };
}

/** The process's own metrics, made once (each is one series, whoever counts). */
let metrics: SyncMetrics | undefined;
const processMetrics = () => (metrics ??= syncMetrics(Runtime.instance().metricMeter));

/** The process's alert delivery: it empties the store's outbox beside the Temporal worker, until stopped. */
export const deliverAlerts = (config: AppConfig, store: Store, logger: Logger) =>
  startAlertDelivery({ outbox: store.alertOutbox, smtp: config.alerts.smtp, logger, metrics: processMetrics() });

/**
 * What both Temporal workers of a process start from; the record workflows' worker caches none (below). A write group
 * holds up to 500 records' activities: 1,000 slots hold two. The control queue's workflows (a batch, a watcher) stay in
 * a small cache between their tasks. A task queued on a worker's sticky queue longer than its wait goes to the shared
 * queue: at the SDK's 10 s, cached records woken by a mass approval timed out so (two workers, 1,000 approved: 417
 * such timeouts, 8 bulk updates; at 60 s none, 3 updates). A crashed worker's queued tasks wait that long before
 * another takes them; the server sends it no new ones once it has not polled for 10 s.
 */
export const WORKER_TUNING = {
  maxConcurrentActivityTaskExecutions: 1000,
  maxCachedWorkflows: 20,
  maxConcurrentWorkflowTaskExecutions: 20,
  stickyQueueScheduleToStartTimeout: '60s',
} as const;

/**
 * The record workflows' worker caches none. A waiting record's next task comes minutes to hours later, after thousands
 * of others' (its first step, then the watcher's word), so a cache of 20 almost never held it, and it cost a sticky
 * queue: the server sent each woken record's task to the worker that last ran it, where a mass approval's tasks
 * queued past the sticky wait, timed out and ran again from the shared queue (20,000 waiting on the cluster, one
 * worker, 5,000 approved: 3,764 timed out, 95 bulk updates, the last write 952 s after the unlock). With none, every
 * task goes to the shared queue and replays its short history, as a cache miss did (the same run: none timed out, 44
 * updates, 650 s). The SDK's core then holds one run at a time, so the worker runs its record tasks one after another,
 * those it has taken waiting their turn under their 10 s timeout (185 of 20,000 first steps ran again while a batch
 * handed them off). The ratio gives the shared queue all ten pollers: the core applies it with no sticky queue too.
 */
export const RECORD_WORKER_TUNING = { maxCachedWorkflows: 0, nonStickyToStickyPollRatio: 1 } as const;

/** dist/workflow-bundle.js, written by `npm run build`: the compiled worker (CAPA_SYNC_DIST=1, from dist/src) uses it. */
const PREBUILT_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');

/**
 * A process's Temporal workers, one a task queue, with the same workflows and activities (one Vault session, one write
 * group): `main` on the task queue runs the record workflows; `control` on the control task queue runs the batches and
 * the lock watcher, whose workflow tasks would otherwise wait behind every record workflow's first step (a batch that
 * hands 200,000 records off queues as many, which one worker takes most of an hour to run).
 */
export class CapaWorker {
  constructor(
    readonly main: Worker,
    readonly control: Worker,
  ) {}

  /** Runs both until shutdown; one that stops or fails stops the other (a process never runs half of capa-sync). */
  async run(): Promise<void> {
    const runs = [this.main, this.control].map((w) => w.run().finally(() => this.shutdown()));
    const failed = (await Promise.allSettled(runs)).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Runs both until `work` settles, then stops them, as Worker.runUntil does; a worker that stops first fails it. */
  async runUntil<R>(work: Promise<R> | (() => Promise<R>)): Promise<R> {
    const running = this.run();
    const stopped = running.then(() => Promise.reject(new Error('a worker stopped before its work ended')));
    try {
      return await Promise.race([typeof work === 'function' ? work() : work, stopped]);
    } finally {
      this.shutdown();
      await running.catch(() => undefined); // a failure of theirs ended the race, or came after the work had
    }
  }

  shutdown(): void {
    for (const w of [this.main, this.control]) if (w.getState() === 'RUNNING') w.shutdown();
  }
}

/** Creates the process's workers: every capa-sync workflow and activity, on the task queue and the control one. */
export async function createWorker(
  config: AppConfig,
  services: { connection: NativeConnection; temporal: Client; store: Store; logger: Logger },
): Promise<CapaWorker> {
  const { connection, temporal } = services;
  const { activities, vaultStats } = buildActivities(config, services);
  sampleGauges(Runtime.instance().metricMeter, vaultStats, temporal, config.vault.object);
  const workflowBundle =
    process.env.CAPA_SYNC_DIST === '1'
      ? { codePath: PREBUILT_BUNDLE }
      : await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: Runtime.instance().logger });
  const worker = (taskQueue: string, tuning: Partial<WorkerOptions> = {}) =>
    Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowBundle,
      activities,
      ...WORKER_TUNING,
      ...tuning,
    });
  return new CapaWorker(
    await worker(config.temporal.taskQueue, RECORD_WORKER_TUNING),
    await worker(config.temporal.controlTaskQueue),
  );
}

export async function runWorker(config: AppConfig = loadConfig()): Promise<void> {
  const logger = jsonLogger(config.logLevel);
  installRuntime(logger, config.metricsPort);
  const store = await openStore(config.databaseUrl, logger);
  const connection = await connectWorker(config.temporal);
  const temporal = await connectClient(config.temporal);
  const { namespace } = config.temporal;
  const missing = await missingSearchAttributes(temporal, namespace);
  if (missing.length)
    throw new Error(
      `the namespace ${namespace} has no search attribute ${missing.join(', ')}: create them first (docs/production.md)`,
    );
  const worker = await createWorker(config, { connection, temporal, store, logger });
  await startOrMoveLockWatcher(temporal, { ...watcherOf(config), from: config.temporal.taskQueue });
  const delivery = deliverAlerts(config, store, logger);
  const { taskQueue, controlTaskQueue } = config.temporal;
  logger.info('worker started', { taskQueue, controlTaskQueue, namespace });
  try {
    await worker.run(); // until SIGINT or SIGTERM
  } finally {
    await delivery.stop();
  }
  await temporal.connection.close();
  await connection.close();
  await store.close();
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(`worker: ${(err as Error).message}`);
    process.exit(1);
  });
}
