/**
 * The benchmark: measures capa-sync against the targets in the design, on the real dev server and simulator,
 * and prints the figures side by side. `npm run bench` (about 10 minutes; it builds first); `npm run bench -- --quick` for a smaller run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/logger';
import { startBatch } from '../src/operations';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { VaultSimulator } from '../src/simulator/server';
import { VaultClient } from '../src/vault/client';
import { VaultHttp } from '../src/vault/http';
import { DOCUMENTED_DIALECT } from '../src/vault/dialect';
import { buildActivities, WORKER_TUNING } from '../src/worker';
import { ensureDatabase, startThrowawayPostgres } from '../src/store/embedded-postgres';
import { openStore } from '../src/store/store';
import { prepareBatch } from '../src/sources/prepare-batch';
import { temporalCliPath } from '../src/temporal-binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { batchWorkflowId } from '../src/workflows/batch-messages';
import { cancelSignal, recordWorkflowId } from '../src/workflows/record-messages';

const quick = process.argv.includes('--quick');
const N_BATCH = quick ? 2_000 : 10_000;
const N_WAITING = quick ? 500 : 5_000;
const N_HUGE = quick ? 10_000 : 100_000;
const figures: Array<[string, string, string]> = [];
const record = (what: string, measured: string, target: string) => {
  figures.push([what, measured, target]);
  console.log(`  ${what}: ${measured} (target: ${target})`);
};

function exportFile(n: number, priority: (i: number) => string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-')), 'export.csv');
  const lines = ['capa_id,priority,risk_score,due_date'];
  for (let i = 0; i < n; i++) lines.push(`${sampleRecordId(i)},${priority(i)},${i % 101},2027-04-30`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const PRIORITIES = ['High', 'Medium', 'Low'];
const settings = {
  username: 'sync.user@example.com',
  password: 'simulator',
  clientId: 'bench',
  apiVersion: 'v23.2',
  timeoutMs: 30_000,
  maxRetries: 3,
  backoffBaseMs: 100,
  backoffMaxMs: 1000,
  burstLimitThreshold: 0,
  burstPauseMs: 0,
};

/** The plain script: the same minimal calls (state reads of 1,000, updates of 500), one after the other. */
async function plainScript(sim: VaultSimulator, n: number, priority: (i: number) => string): Promise<number> {
  const client = new VaultClient(
    new VaultHttp({ ...settings, baseUrl: sim.baseUrl }, silentLogger),
    DOCUMENTED_DIALECT,
  );
  const ids = Array.from({ length: n }, (_, i) => sampleRecordId(i));
  const start = Date.now();
  const states = await client.readStates('capa__c', ids, ['priority__c', 'risk_score__c', 'due_date__c']);
  const unlocked = states
    .filter((s) => !DOCUMENTED_DIALECT.lockedStates.includes(s.state))
    .map((s) => Number(s.id.slice(3)) - 1);
  await client.bulkUpdate(
    'capa__c',
    unlocked.map((i) => ({
      id: sampleRecordId(i),
      values: { priority__c: priority(i), risk_score__c: i % 101, due_date__c: '2027-04-30' },
    })),
  );
  return Date.now() - start;
}

/** Terminates the record workflows of the batch rounds' locked records (every tenth), and waits until none runs. */
async function endRecordWorkflows(client: Client, n: number): Promise<void> {
  for (let i = 0; i < n; i += 10)
    await client.workflow
      .getHandle(recordWorkflowId('capa__c', sampleRecordId(i)))
      .terminate('bench: next round')
      .catch(() => undefined);
  const running = `WorkflowType = 'capaRecordWorkflow' AND ExecutionStatus = 'Running'`;
  for (let waited = 0; waited < 60_000 && (await client.workflow.count(running)).count > 0; waited += 500)
    await new Promise((resolve) => setTimeout(resolve, 500));
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, searchAttributes: ALL_SEARCH_ATTRIBUTES },
  });
  const sim = new VaultSimulator({ faults: { burstLimit: 1_000_000 } });
  sim.store.seed(sampleRecords({ count: Math.max(N_HUGE, N_WAITING * 2), lockedFraction: 0 }));
  await sim.start();
  const postgres = await startThrowawayPostgres();
  await ensureDatabase(postgres.url('capa_sync'));
  const store = await openStore(postgres.url('capa_sync'), silentLogger);
  const config = loadConfig({
    CAPA_DATABASE_URL: postgres.url('capa_sync'),
    VAULT_BASE_URL: sim.baseUrl,
    TEMPORAL_TASK_QUEUE: 'bench',
    CAPA_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-data-')),
    LOG_LEVEL: 'error',
    VAULT_BURST_THRESHOLD: '0',
  });
  const { activities } = buildActivities(config, { logger: silentLogger, temporal: env.client, store });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'bench',
    workflowsPath: require.resolve('../src/workflows'),
    activities,
    ...WORKER_TUNING,
  });
  const running = worker.run();
  try {
    // 1. A batch of N records (10% locked) against the plain script, alternating, same simulator.
    console.log(`\n1. ${N_BATCH}-record batch, 10% locked, vs a plain script of the same bulk calls`);
    for (let i = 0; i < N_BATCH; i += 10) sim.store.records.get(sampleRecordId(i))!.state__v = 'under_review_state__c';
    const ours: number[] = [];
    const applied: number[] = [];
    const plain: number[] = [];
    for (let round = 0; round < 6; round++) {
      // Rounds 0-2 on the simulator as fast as it goes, 3-5 with 100 ms a call, nearer a real vault.
      sim.setFaults({ latencyMs: round < 3 ? 0 : 100 });
      const p1 = (i: number) => PRIORITIES[(i + round) % 3];
      const before = { ...sim.calls };
      const file = exportFile(N_BATCH, p1);
      const auditBefore = sim.store.audit.length;
      const t0 = Date.now();
      const handle = await startBatch(env.client, config, { source: file, batchId: `bench-${round}` });
      const summary = await handle.result();
      ours.push(Date.now() - t0);
      const lastWrite = Math.max(...sim.store.audit.slice(auditBefore).map((a) => Date.parse(a.time)));
      applied.push(lastWrite - t0);
      const calls = (k: string) => (sim.calls[k] ?? 0) - (before[k] ?? 0);
      if (round === 0) {
        record(
          'Vault calls for the batch (updates + state reads)',
          `${calls('bulkUpdate')} + ${calls('query') + calls('queryPage')}`,
          `<= ${Math.ceil(N_BATCH / 500)} + ${Math.ceil(N_BATCH / 1000)} + small`,
        );
        record(
          'rows accounted for',
          `${Object.values(summary.counts).reduce((a, b) => a + b, 0)} of ${N_BATCH}`,
          'all',
        );
        let workflows = 0;
        for await (const _ of env.client.workflow.list({ query: `WorkflowType = 'capaRecordWorkflow'` })) workflows++;
        record(
          'record workflows started',
          `${workflows} for ${summary.counts.waiting} locked rows`,
          '1 per locked record, 0 for unlocked',
        );
      }
      plain.push(await plainScript(sim, N_BATCH, (i) => PRIORITIES[(i + round + 2) % 3])); // differs from the next round's values
      // Every round starts alike, with no record workflow running: the next batch's hand-offs start new ones.
      await endRecordWorkflows(env.client, N_BATCH);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
    for (const [label, from] of [
      ['simulator at full speed', 0],
      ['simulator at 100 ms a call', 3],
    ] as const) {
      const [o, a, p] = [ours, applied, plain].map((xs) => median(xs.slice(from, from + 3)));
      record(
        `${label}: plain script / capa-sync unlocked rows applied / whole batch (median of 3)`,
        `${p} / ${a} / ${o} ms`,
        '',
      );
      record(
        `${label}: ratio to apply the unlocked rows (whole batch)`,
        `${(a / p).toFixed(2)} (${(o / p).toFixed(2)})`,
        '<= 3',
      );
    }
    sim.setFaults({ latencyMs: 0 });

    // 2. W records waiting on one worker: Vault calls per tick and worker memory.
    console.log(`\n2. ${N_WAITING} records waiting on one worker (20 s ticks)`);
    const waitingIds = Array.from({ length: N_WAITING }, (_, i) => sampleRecordId(N_HUGE - 1 - i));
    for (const id of waitingIds) sim.store.records.get(id)!.state__v = 'pending_approval_state__c';
    const waitFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-')), 'waiting.csv');
    fs.writeFileSync(waitFile, ['capa_id,priority', ...waitingIds.map((id) => `${id},High`)].join('\n') + '\n');
    // The waiting records get a worker process of their own, so that its memory is the worker's alone.
    const memConfig = { ...config, temporal: { ...config.temporal, taskQueue: 'bench-memory' } };
    const child = spawn('node', ['--max-old-space-size=256', path.join(__dirname, '../bin/capa-sync.js'), 'worker'], {
      env: {
        ...process.env,
        CAPA_SYNC_DIST: '1', // the compiled worker with its prebuilt workflow bundle, as in production
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: 'bench-memory',
        VAULT_BASE_URL: sim.baseUrl,
        CAPA_DATA_DIR: config.dataDir,
        CAPA_DATABASE_URL: config.databaseUrl,
        CAPA_TICK_SECONDS: '20',
        LOG_LEVEL: 'error',
      },
      stdio: 'inherit',
    });
    await (await startBatch(env.client, memConfig, { source: waitFile, batchId: 'bench-waiting' })).result();
    await new Promise((resolve) => setTimeout(resolve, 15_000)); // every workflow has made its first read
    const q0 = (sim.calls.query ?? 0) + (sim.calls.queryPage ?? 0);
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    const ticks = Math.round((Date.now() - t0) / 20_000);
    const perTick = ((sim.calls.query ?? 0) + (sim.calls.queryPage ?? 0) - q0) / ticks;
    record('Vault calls per tick', perTick.toFixed(1), `<= ${Math.ceil(N_WAITING / 1000) + 1}`);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
    record(`worker process RSS with ${N_WAITING} records waiting`, `${Math.round(rss)} MB`, '< 400 MB');
    for (const id of waitingIds)
      await env.client.workflow
        .getHandle(recordWorkflowId('capa__c', id))
        .signal(cancelSignal, { operator: 'bench', reason: 'cleanup' });
    child.kill('SIGINT');

    // 3. A huge batch completes, and no run's history passes 10,000 events.
    console.log(`\n3. ${N_HUGE}-record batch`);
    for (const id of waitingIds) sim.store.records.get(id)!.state__v = 'in_progress_state__c';
    const huge = exportFile(N_HUGE, (i) => PRIORITIES[i % 3]);
    const t1 = Date.now();
    const summary = await (await startBatch(env.client, config, { source: huge, batchId: 'bench-huge' })).result();
    record('huge batch', `${summary.inputRows} rows in ${((Date.now() - t1) / 1000).toFixed(1)} s`, 'completes');
    const wid = batchWorkflowId('capa__c', 'bench-huge');
    let runId: string | undefined =
      (await env.client.workflow.getHandle(wid).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    let maxEvents = 0;
    while (runId) {
      const events = (await env.client.workflow.getHandle(wid, runId).fetchHistory()).events ?? [];
      maxEvents = Math.max(maxEvents, events.length);
      runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    record('largest batch run history', `${maxEvents} events`, '< 10,000');

    // 4. Preparing into the store, beside reading and validating the same file alone (the floor).
    console.log(`\n4. prepare of ${N_HUGE} rows`);
    const readOnly: number[] = [];
    const intoStore: number[] = [];
    for (let round = 0; round < 3; round++) {
      let t = Date.now();
      await prepareBatch({ file: huge }, config.mapping, config.batch.pageSize, () => undefined);
      readOnly.push(Date.now() - t);
      t = Date.now();
      await store.batches.prepare(
        {
          batchId: `bench-prepare-${round}`,
          runId: 'bench',
          source: huge,
          object: 'capa__c',
          pageSize: config.batch.pageSize,
          mapping: config.mapping,
        },
        (stage) => prepareBatch({ file: huge }, config.mapping, config.batch.pageSize, stage),
        async () => [],
      );
      intoStore.push(Date.now() - t);
    }
    const [r, w] = [readOnly, intoStore].map((xs) => [...xs].sort((a, b) => a - b)[1]);
    record(`prepare ${N_HUGE} rows: read + validate only / into the store (median of 3)`, `${r} / ${w} ms`, '');
    record('prepare: store / read + validate only', (w / r).toFixed(2), '');
  } finally {
    worker.shutdown();
    await running;
    await sim.stop();
    await env.teardown();
    await store.close();
    await postgres.stop();
  }
  console.log('\nFigures:');
  for (const [what, measured, target] of figures) console.log(`| ${what} | ${measured} | ${target} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
