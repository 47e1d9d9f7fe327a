import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { AppConfig, controlQueueOf, loadConfig } from '../src/config';
import { silentLogger } from '../src/observability/logger';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { VaultSimulator } from '../src/simulator/server';
import { migratedDatabase, startThrowawayPostgres } from '../test/helpers/throwaway-postgres';
import { startTemporalCluster } from '../test/cluster/temporal-cluster';
import { connectClient } from '../src/temporal/connection';
import { migrateStore } from '../src/store/database';
import { openStore, Store } from '../src/store/store';
import { temporalCliPath } from '../src/temporal/binaries';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../src/temporal/worker-memory';
import { ALL_SEARCH_ATTRIBUTES } from '../src/contracts/search-attributes';
import { PRIORITIES } from './simulator-client';
import { processes, readProc } from './proc';

/**
 * What every bench section shares: a Temporal server (the dev server, or the cluster suite's: Temporal on
 * PostgreSQL with mTLS, as docker-compose.yml runs it), the simulator (in this process), and a store.
 */
export interface Harness {
  client: Client;
  /** What a worker process needs to reach the server (address, namespace, TLS). */
  temporalEnv: Record<string, string>;
  /** The `temporal` CLI against the server. */
  temporalCli(args: string[]): Promise<void>;
  /** The Temporal server's resident memory now. */
  serverRssMb(): number;
  sim: VaultSimulator;
  store: Store;
  config: AppConfig;
  stop(): Promise<void>;
}

export const LOCKED = 'under_review_state__c';
export const UNLOCKED = 'in_progress_state__c';
const ROOT = path.join(__dirname, '..');

/** The Temporal server a harness runs on, and capa-sync's database beside it. */
interface Server {
  client: Client;
  temporalEnv: Record<string, string>;
  temporalCli(args: string[]): Promise<void>;
  serverRssMb(): number;
  databaseUrl: string;
  stop(): Promise<void>;
}

export async function startHarness(records: number, { cluster = false } = {}): Promise<Harness> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = cluster ? await clusterServer() : await devServer();
  const sim = new VaultSimulator({ faults: { burstLimit: 1_000_000_000 } });
  sim.store.seed(sampleRecords({ count: records, lockedFraction: 0 }));
  await sim.start();
  const store = await openStore(server.databaseUrl, silentLogger);
  const config = loadConfig({
    ...server.temporalEnv,
    CAPA_DATABASE_URL: server.databaseUrl,
    VAULT_BASE_URL: sim.baseUrl,
    CAPA_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-data-')),
    LOG_LEVEL: 'error',
    VAULT_BURST_THRESHOLD: '0',
  });
  return {
    ...server,
    sim,
    store,
    config,
    async stop() {
      await sim.stop();
      await store.close();
      await server.stop();
    },
  };
}

/** The dev server (SQLite in memory) and an embedded PostgreSQL for the store. */
async function devServer(): Promise<Server> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, searchAttributes: ALL_SEARCH_ATTRIBUTES },
  });
  const postgres = await startThrowawayPostgres();
  const temporalEnv = { TEMPORAL_ADDRESS: env.address };
  return {
    client: env.client,
    temporalEnv,
    temporalCli: (args) => temporalCli(args, temporalEnv),
    serverRssMb: () =>
      processRssMb((cmdline) => cmdline.includes('start-dev') && cmdline.includes(env.address.split(':')[1])),
    databaseUrl: await migratedDatabase(postgres, 'capa_sync'),
    async stop() {
      await env.teardown();
      await postgres.stop();
    },
  };
}

/** The cluster suite's topology: Temporal 1.28 on PostgreSQL with mTLS, capa-sync's database on the same server. */
async function clusterServer(): Promise<Server> {
  const cluster = await startTemporalCluster();
  try {
    await migrateStore(cluster.ownerUrl, cluster.databaseUrl, silentLogger);
    const client = await connectClient(loadConfig(cluster.clientEnv).temporal);
    return {
      client,
      temporalEnv: cluster.clientEnv,
      temporalCli: async (args) => void (await cluster.temporal(args)),
      serverRssMb: () => processRssMb((cmdline) => cmdline.includes('temporal-server')),
      databaseUrl: cluster.databaseUrl,
      async stop() {
        await client.connection.close();
        await cluster.stop();
      },
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

function temporalCli(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    spawn(temporalCliPath(), args, { stdio: 'ignore', env: { ...process.env, ...env } }).once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`temporal ${args.slice(0, 2).join(' ')} exited ${code}`)),
    ),
  );
}

/** The resident memory of the first process whose command line matches (NaN where none does). */
function processRssMb(matches: (cmdline: string) => boolean): number {
  const found = processes().find((p) => matches(p.command));
  if (!found) return NaN;
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readProc(`/proc/${found.pid}/status`))?.[1] ?? NaN) / 1024);
}

/** A CSV export of records [from, to) with the round's values. */
export function exportFile(from: number, to: number, round: number): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-')), 'export.csv');
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, 'capa_id,priority,risk_score,due_date\n');
  for (let i = from; i < to; i += 10_000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(i + 10_000, to); j++)
      lines.push(`${sampleRecordId(j)},${PRIORITIES[(j + round) % 3]},${j % 101},2027-04-30\n`);
    fs.writeSync(out, lines.join(''));
  }
  fs.closeSync(out);
  return file;
}

/** A node process the bench measures on its own: its peak RSS (VmHWM) is its memory alone. */
export class MeasuredProcess {
  readonly child: ChildProcess;
  private exited: Promise<void>;

  constructor(args: string[], env: Record<string, string>, stdout: 'inherit' | 'pipe' = 'inherit') {
    this.child = spawn('node', args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', stdout, 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** The capa-sync worker as production runs it: compiled, prebuilt workflow bundle, its memory settings. */
  static capaWorker(h: Harness, taskQueue: string, env: Record<string, string> = {}): MeasuredProcess {
    return new MeasuredProcess([...WORKER_NODE_ARGS, 'bin/capa-sync.js', 'worker'], {
      ...WORKER_ENV,
      CAPA_SYNC_DIST: '1',
      ...h.temporalEnv,
      TEMPORAL_TASK_QUEUE: taskQueue,
      VAULT_BASE_URL: h.sim.baseUrl,
      VAULT_BURST_THRESHOLD: '0',
      CAPA_DATA_DIR: h.config.dataDir,
      CAPA_DATABASE_URL: h.config.databaseUrl,
      LOG_LEVEL: 'error',
      ...env,
    });
  }

  private status(field: 'VmRSS' | 'VmHWM'): number {
    const text = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)![1]) / 1024);
  }
  rssMb = () => this.status('VmRSS');
  peakRssMb = () => this.status('VmHWM');

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    await Promise.race([this.exited, sleep(30_000).then(() => this.child.kill('SIGKILL'))]);
  }

  /** Resolves when the process exits, with its exit code. */
  async done(): Promise<number | null> {
    await this.exited;
    return this.child.exitCode;
  }
}

/** The Prometheus counter (summed over its labels) a worker exposes on `port`. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Visibility's query for the workflows of workers on a task queue: theirs and its control queue's. */
export const onQueues = (taskQueue: string) => `TaskQueue IN ('${taskQueue}', '${controlQueueOf(taskQueue)}')`;

/** The workflow executions of workers on a task queue, and their history events in total. */
export async function executions(client: Client, taskQueue: string): Promise<{ count: number; events: number }> {
  let count = 0;
  let events = 0;
  for await (const wf of client.workflow.list({ query: onQueues(taskQueue) })) {
    count++;
    events += wf.historyLength;
  }
  return { count, events };
}

/** Workflows the query matches, started per second from the first start to the last. */
export async function startRate(client: Client, query: string): Promise<number> {
  let [count, first, last] = [0, Infinity, -Infinity];
  for await (const wf of client.workflow.list({ query })) {
    count++;
    first = Math.min(first, wf.startTime.getTime());
    last = Math.max(last, wf.startTime.getTime());
  }
  return count > 1 ? count / ((last - first) / 1000) : NaN;
}

/** Ends every running workflow the query matches, with one server-side batch operation. */
export async function terminateAll(h: Harness, query: string): Promise<void> {
  const running = `${query} AND ExecutionStatus = 'Running'`;
  if ((await h.client.workflow.count(running)).count === 0) return;
  await h.temporalCli(['workflow', 'terminate', '--query', running, '--reason', 'bench', '--yes']);
  while ((await h.client.workflow.count(running)).count > 0) await sleep(1000);
}

/** Spins one core at 100% in another process, as a busy machine does, until stopped. */
export function busyCpu(): MeasuredProcess {
  return new MeasuredProcess(['-e', 'for (;;) {}'], {});
}

/** Vault reads (queries and their pages) and updates the simulator has answered so far. */
export function vaultCalls(sim: VaultSimulator): { reads: number; updates: number } {
  const c = sim.calls;
  return { reads: (c.query ?? 0) + (c.queryPage ?? 0), updates: c.bulkUpdate ?? 0 };
}

/** The time of the last write the simulator took for each of `ids`, from its audit log after `fromSeq`. */
export function lastWrites(sim: VaultSimulator, fromSeq: number, ids: Set<string>): Map<string, number> {
  const last = new Map<string, number>();
  for (let i = fromSeq; i < sim.store.audit.length; i++) {
    const entry = sim.store.audit[i];
    if (ids.has(entry.recordId)) last.set(entry.recordId, Date.parse(entry.time));
  }
  return last;
}

export const mb = (n: number) => `${n} MB`;
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
