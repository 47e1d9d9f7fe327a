import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBatch } from '../src/cli/operations';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { testConfig } from './helpers/config';
import { writeCsv } from './helpers/exports';
import { freePort } from '../src/temporal/dev-server';
import { startDevServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { waitFor } from './helpers/wait';

const CLI = path.join(__dirname, '../bin/capa-sync.js');
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let worker: ChildProcess;
let logs = '';

afterAll(async () => {
  worker?.kill('SIGKILL');
  await sim?.stop();
  await env?.teardown();
});

it('runs as its own process: structured logs without secrets, Prometheus metrics with our counters', async () => {
  env = await startDevServer();
  sim = await startSimulator();
  sim.store.seed(sampleRecords({ count: 20, lockedFraction: 0.1 }));
  const metricsPort = await freePort();
  const config = await testConfig(sim, {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'process',
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  });
  worker = spawn('node', [CLI, 'worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: 'process',
      VAULT_BASE_URL: sim.baseUrl,
      CAPA_DATA_DIR: config.dataDir,
      CAPA_DATABASE_URL: config.databaseUrl,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d) => (logs += d));
  worker.stderr!.on('data', (d) => (logs += d));
  await waitFor('the worker to start', async () => logs.includes('worker started'), 60_000);

  const rows = Array.from({ length: 20 }, (_, i) => ({
    capa_id: sampleRecordId(i),
    priority: 'High',
    risk_score: 9,
    due_date: '2027-01-01',
  }));
  const summary = await (await startBatch(env.client, config, { source: writeCsv(rows), batchId: 'proc-1' })).result();
  expect(summary.counts.waiting).toBe(2);

  const metrics = await waitFor(
    'our metrics',
    async () => {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      return /capa_sync_records\{[^}]*state="waiting-for-unlock"[^}]*\} 2/.test(text) ? text : undefined;
    },
    60_000,
  );
  expect(metrics).toMatch(/capa_sync_rows\{[^}]*outcome="waiting"[^}]*\} 2/);
  expect(metrics).toMatch(/capa_sync_vault_calls(\{[^}]*\})? [1-9]/);
  expect(metrics).toMatch(/temporal_/); // the Temporal runtime's own metrics

  const lines = logs.split('\n').filter(Boolean);
  const parsed = lines.map((l) => JSON.parse(l));
  expect(parsed.some((l) => l.message === 'batch page applied' && l.batchId === 'proc-1')).toBe(true);
  expect(parsed.some((l) => l.message === 'batch page handed off' && l.waiting === 2)).toBe(true);
  for (const secret of ['simulator', ...sim.issuedSessionIds]) expect(logs).not.toContain(secret);

  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill('SIGINT');
  expect(await exited).toBe(0);
});
