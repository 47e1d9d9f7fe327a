import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBatch } from '../src/operations';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { HEARTBEAT_TIMEOUT_MS } from '../src/workflows/activity-timeouts';
import { testConfig } from './helpers/config';
import { writeCsv } from './helpers/exports';
import { startDevServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { waitFor } from './helpers/wait';

// A worker SIGKILLed in the middle of a batch page: the page moves to the other worker once its heartbeats stop,
// in the heartbeat timeout (seconds), not the old two minutes; every row still ends in exactly one outcome.

const CLI = path.join(__dirname, '../bin/capa-sync.js');
const RECORDS = 1500;
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
const workers: ChildProcess[] = [];

afterAll(async () => {
  workers.forEach((w) => w.kill('SIGKILL'));
  await sim?.stop();
  await env?.teardown();
});

it('moves a dead worker’s batch page to a live worker within the heartbeat timeout', async () => {
  env = await startDevServer();
  sim = await startSimulator({ faults: { latencyMs: 1_500 } });
  sim.store.seed(sampleRecords({ count: RECORDS, lockedFraction: 0 }));
  const settings = { TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: 'failover', CAPA_PAGE_SIZE: '500' };
  const config = await testConfig(sim, settings);
  const started = [0, 1].map(async () => {
    let logs = '';
    const worker = spawn('node', [CLI, 'worker'], {
      env: {
        ...process.env,
        ...settings,
        VAULT_BASE_URL: sim.baseUrl,
        CAPA_DATA_DIR: config.dataDir,
        CAPA_DATABASE_URL: config.databaseUrl,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d) => (logs += d));
    worker.stderr!.on('data', (d) => (logs += d));
    workers.push(worker);
    await waitFor('the worker to start', async () => logs.includes('worker started'), 120_000);
  });
  await Promise.all(started);

  const rows = Array.from({ length: RECORDS }, (_, i) => ({
    capa_id: sampleRecordId(i),
    priority: 'High',
    risk_score: 42,
    due_date: '2027-02-28',
  }));
  const handle = await startBatch(env.client, config, { source: writeCsv(rows), batchId: 'failover-1' });
  const page = await waitFor('a page being applied', async () =>
    ((await handle.describe()).raw.pendingActivities ?? []).find(
      (a) => a.activityType?.name === 'applyPage' && a.lastWorkerIdentity,
    ),
  );
  const victim = workers.find((w) => page.lastWorkerIdentity!.startsWith(`${w.pid}@`))!;
  victim.kill('SIGKILL');
  const killedAt = Date.now();

  const moved = await waitFor(
    'the page to run on the other worker',
    async () =>
      ((await handle.describe()).raw.pendingActivities ?? []).find(
        (a) => a.activityId === page.activityId && (a.attempt ?? 0) >= 2,
      ),
    90_000,
    100,
  );
  const movedAfterMs = Date.now() - killedAt;
  console.log(`failover: page ${page.activityId} retried ${movedAfterMs} ms after SIGKILL`);
  expect(moved.lastFailure?.message).toMatch(/heartbeat/i);
  expect(movedAfterMs).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 10_000);

  const summary = await handle.result();
  expect(summary.counts).toMatchObject({ updated: RECORDS, failed: 0, waiting: 0 });
  for (const id of rows.map((r) => r.capa_id)) {
    const writes = sim.store.audit.filter((a) => a.recordId === id && a.field === 'priority__c');
    expect(writes.length).toBeLessThanOrEqual(1);
  }
});
