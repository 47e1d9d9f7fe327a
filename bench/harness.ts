import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { AppConfig, loadConfig } from '../src/config';
import { silentLogger } from '../src/observability/logger';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { VaultSimulator } from '../src/simulator/server';
import { migratedDatabase, startThrowawayPostgres } from '../test/helpers/throwaway-postgres';
import { openStore, Store } from '../src/store/store';
import { temporalCliPath } from '../src/temporal/binaries';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../src/temporal/worker-memory';
import { ALL_SEARCH_ATTRIBUTES } from '../src/contracts/search-attributes';
import { PRIORITIES } from './simulator-client';

/** What every bench section shares: a dev server, the simulator (in this process), and a store. */
export interface Harness {
  env: TestWorkflowEnvironment;
  sim: VaultSimulator;
  store: Store;
  config: AppConfig;
  stop(): Promise<void>;
}

export const LOCKED = 'under_review_state__c';
export const UNLOCKED = 'in_progress_state__c';
const ROOT = path.join(__dirname, '..');

export async function startHarness(records: number): Promise<Harness> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, searchAttributes: ALL_SEARCH_ATTRIBUTES },
  });
  const sim = new VaultSimulator({ faults: { burstLimit: 1_000_000_000 } });
  sim.store.seed(sampleRecords({ count: records, lockedFraction: 0 }));
  await sim.start();
  const postgres = await startThrowawayPostgres();
  const databaseUrl = await migratedDatabase(postgres, 'capa_sync');
  const store = await openStore(databaseUrl, silentLogger);
  const config = loadConfig({
    CAPA_DATABASE_URL: databaseUrl,
    VAULT_BASE_URL: sim.baseUrl,
    CAPA_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-data-')),
    LOG_LEVEL: 'error',
    VAULT_BURST_THRESHOLD: '0',
  });
  return {
    env,
    sim,
    store,
    config,
    async stop() {
      await sim.stop();
      await env.teardown();
      await store.close();
      await postgres.stop();
    },
  };
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
      TEMPORAL_ADDRESS: h.env.address,
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

/** Workflow executions on a task queue, and their history events in total. */
export async function executions(client: Client, taskQueue: string): Promise<{ count: number; events: number }> {
  let count = 0;
  let events = 0;
  for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
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
  if ((await h.env.client.workflow.count(running)).count === 0) return;
  await new Promise<void>((resolve, reject) =>
    spawn(
      temporalCliPath(),
      ['workflow', 'terminate', '--address', h.env.address, '--query', running, '--reason', 'bench', '--yes'],
      { stdio: 'ignore' },
    ).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`terminate exited ${code}`)))),
  );
  while ((await h.env.client.workflow.count(running)).count > 0) await sleep(1000);
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
