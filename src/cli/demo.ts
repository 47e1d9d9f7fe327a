import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client } from '@temporalio/client';
import { AppConfig, loadConfig } from '../config';
import { startDevServer, temporalReachable } from '../temporal/dev-server';
import { jsonLogger, type Logger } from '../observability/logger';
import { listRecords, newBatchId, startBatch } from './operations';
import { loadSimulator, saveSimulator } from '../simulator/persistence';
import { sampleRecords } from '../simulator/seed';
import { VaultSimulator } from '../simulator/server';
import { connectClient, connectWorker } from '../temporal/connection';
import { createWorker, deliverAlerts } from '../worker';
import { installRuntime } from '../temporal/runtime';
import { EMBEDDED_DATABASE_URL, EMBEDDED_OWNER_URL, EMBEDDED_PORT } from '../store/embedded-defaults';
import { ensureDatabase, listening, startEmbeddedPostgres } from '../store/embedded-postgres';
import { openStore, type Store } from '../store/store';
import { migrateStore } from '../store/database';
import { followBatch, summaryTable, waitingRecordsUrl } from './batch-output';
import { PortInUse } from '../host/port-holder';
import { Interrupted, listenForInterrupt, type Interruption } from './interruption';

const SAMPLE_EXPORT = path.resolve(__dirname, '../../examples/risk-export.csv');
const REVIEWS_OVER_MS = 4 * 60_000;

/** When reviewers approve the k-th record under review: from 30 s after the vault's start, over the next 4 minutes. */
export const reviewAfterMs = (k: number) => 30_000 + ((k * 7919) % REVIEWS_OVER_MS);

/** Settings the demo changes unless the environment sets them: ticks short enough to watch locks clear. */
const DEMO_DEFAULTS = { CAPA_TICK_SECONDS: '15,30,60', TEMPORAL_ADDRESS: '127.0.0.1:7233', LOG_LEVEL: 'warn' };

/** A fresh simulated vault: 2,000 CAPAs, 10% under review that reviewers approve over the next minutes. */
function seedSampleVault(sim: VaultSimulator): void {
  const now = Date.now();
  const records = sampleRecords({ count: 2000, lockedFraction: 0.1 });
  let locked = 0;
  for (const r of records) {
    if (r.state__v === 'in_progress_state__c') continue;
    r.unlock = { atMs: now + reviewAfterMs(locked++), toState: 'approved_state__c' };
  }
  sim.store.seed(records);
  // One reviewer changes a field while the record is under review: capa-sync must not overwrite it.
  const reviewed = records.find((r) => r.unlock)!;
  setTimeout(() => sim.store.editByHand(reviewed.id, { priority__c: 'Low' }, 'reviewer@example.com'), 10_000).unref();
}

/** What the demo started, stopped in reverse order (a stop that fails is logged, and the others still run). */
type Stops = Array<() => Promise<void>>;

/**
 * The main job, end to end on the embedded defaults: Temporal dev server (Web UI), Vault simulator, worker,
 * and the sample batch. Keeps running so that waiting records can be watched until Ctrl-C; a second start
 * resumes on the same persisted state.
 */
export async function runDemo(): Promise<number> {
  const config: AppConfig = loadConfig({ ...DEMO_DEFAULTS, ...process.env });
  fs.mkdirSync(config.dataDir, { recursive: true });
  const logFile = path.join(config.dataDir, 'worker.log');
  const logger = jsonLogger(config.logLevel, (line) => fs.appendFileSync(logFile, line + '\n'));
  const interruption = listenForInterrupt();
  const stops: Stops = [];
  let started: string | undefined; // the batch, once Temporal has it
  try {
    installRuntime(logger, config.metricsPort);
    await interruption.after(ensureTemporal(config, stops));
    const store = await interruption.after(ensureStore(config, logger, stops));
    await interruption.after(startSimulator(config, stops));
    const client = await interruption.after(connectClient(config.temporal));
    stops.push(() => client.connection.close());
    await interruption.after(startWorker(config, client, store, logger, stops));

    const batchId = newBatchId();
    console.log(
      `Running batch ${batchId} from ${path.relative(process.cwd(), SAMPLE_EXPORT)} (worker log: ${logFile})`,
    );
    const source = await interruption.after(store.staged.stage(SAMPLE_EXPORT));
    const handle = await startBatch(client, config, { source, batchId });
    started = batchId;
    const summary = await interruption.until((signal) =>
      followBatch(client, handle.workflowId, !!process.stdout.isTTY, signal),
    );
    console.log(summaryTable(summary));
    printWhereToLook(config, batchId, handle.workflowId);

    if (process.env.CAPA_DEMO_EXIT_AFTER_BATCH === '1') return 0;
    await watchRecords(client, config, interruption);
    return 0;
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    console.log(
      started ? `\nStopped before batch ${started} ended: it goes on when a worker runs again.` : '\nStopped.',
    );
    return 130;
  } finally {
    for (const stop of stops.reverse())
      await stop().catch((err) => logger.warn('did not stop cleanly', { error: (err as Error).message }));
    interruption.dispose();
  }
}

/** Starts the dev server (with its Web UI) unless a Temporal server already answers at the configured address. */
async function ensureTemporal(config: AppConfig, stops: Stops): Promise<void> {
  if (await temporalReachable(config.temporal.address)) return;
  const port = Number(config.temporal.address.split(':').pop());
  const uiPort = Number(new URL(config.temporal.uiUrl).port);
  if (await listening(port)) throw new PortInUse(port, 'the Temporal dev server');
  if (await listening(uiPort)) throw new PortInUse(uiPort, "the Temporal dev server's Web UI");
  console.log(`Starting the Temporal dev server (Web UI on ${config.temporal.uiUrl})...`);
  const server = await startDevServer(config.dataDir, port, uiPort);
  stops.push(() => stopChild(server));
}

/** The store: the embedded PostgreSQL server where the default database URL asks for it, migrated, then opened. */
async function ensureStore(config: AppConfig, logger: Logger, stops: Stops): Promise<Store> {
  let ownerUrl = config.databaseOwnerUrl;
  if (config.databaseUrl === EMBEDDED_DATABASE_URL) {
    ownerUrl = EMBEDDED_OWNER_URL;
    if (!(await listening(EMBEDDED_PORT))) {
      console.log(`Starting the embedded PostgreSQL server (the store) on port ${EMBEDDED_PORT}...`);
      const postgres = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), EMBEDDED_PORT);
      stops.push(() => postgres.stop());
    }
    await ensureDatabase(ownerUrl, config.databaseUrl);
  }
  // As a deployment's migrate step does: the schema owner migrates, the worker and the CLI use the runtime role.
  if (ownerUrl) await migrateStore(ownerUrl, config.databaseUrl, logger);
  const store = await openStore(config.databaseUrl, logger);
  stops.push(() => store.close());
  return store;
}

/** The Vault simulator, resumed from its saved state or seeded with the sample vault, saved again at the stop. */
async function startSimulator(config: AppConfig, stops: Stops): Promise<void> {
  const sim = new VaultSimulator();
  const stateFile = path.join(config.dataDir, 'simulator-state.json');
  const resumed = loadSimulator(sim, stateFile);
  if (!resumed) seedSampleVault(sim);
  await sim.start(Number(new URL(config.vault.baseUrl).port));
  stops.push(async () => {
    saveSimulator(sim, stateFile);
    await sim.stop();
  });
  const vault = `${resumed ? 'resumed' : 'new sample vault'}: ${sim.store.records.size} CAPA records`;
  console.log(`Vault simulator on ${sim.baseUrl} (${vault})`);
}

async function startWorker(config: AppConfig, client: Client, store: Store, logger: Logger, stops: Stops) {
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker(config, { connection, temporal: client, store, logger });
  const running = worker.run();
  const delivery = deliverAlerts(config, store, logger);
  stops.push(async () => {
    // The SDK's runtime begins the worker's shutdown on Ctrl-C itself; this waits for it to finish either way.
    worker.shutdown();
    await running;
    await delivery.stop();
    await connection.close();
  });
}

function printWhereToLook(config: AppConfig, batchId: string, workflowId: string): void {
  const { uiUrl, namespace } = config.temporal;
  console.log(`\nWeb UI, records waiting for unlock: ${waitingRecordsUrl(config)}`);
  console.log(`Batch workflow: ${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`);
  const keys = config.audit.publicKeyFiles;
  console.log(
    `Audit trail: \`capa-sync audit --batch ${batchId}\`; its head is signed with ${config.audit.signingKeyFile} (checked by \`capa-sync audit verify\` with ${keys[keys.length - 1]})`,
  );
  console.log(
    'Reviewers approve the locked records over the next minutes; capa-sync applies each one. Ctrl-C stops everything.\n',
  );
}

/** Prints record workflow counts as they change, until Ctrl-C. */
async function watchRecords(client: Client, config: AppConfig, interruption: Interruption): Promise<void> {
  let last = '';
  while (!interruption.heard) {
    const counts = await Promise.all(
      (['waiting-for-unlock', 'needs-decision', 'applied'] as const).map(
        async (s) => `${(await listRecords(client, config, { phase: s }).catch(() => [])).length} ${s}`,
      ),
    );
    const line = `Record workflows: ${counts.join(', ')}`;
    if (line !== last) console.log(line);
    last = line;
    await sleep(5_000, undefined, { signal: interruption.signal }).catch(() => undefined);
  }
  console.log('\nStopping...');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
