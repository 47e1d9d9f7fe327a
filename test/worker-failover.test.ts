import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startBatch } from '../src/cli/operations';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { HEARTBEAT_TIMEOUT_MS } from '../src/contracts/activity-timeouts';
import type { RowResult } from '../src/contracts/batch-messages';
import { testStore } from './helpers/postgres';
import { testConfig } from './helpers/config';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { defaultKeyFiles, readPublicKey, writeKeyPair } from '../src/audit/signing-key';
import { writeCsv } from './helpers/exports';
import { startDevServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { waitFor } from './helpers/wait';

// Two workers, each with its own disk, one task queue and one store. The worker applying a page is SIGKILLed and its
// disk wiped after prepare: the page moves to the other worker once its heartbeats stop (the heartbeat timeout, not
// two minutes), and the batch completes there with every row reconciled, no value written twice and the audit
// holding exactly one entry per field written.

const CLI = path.join(__dirname, '../bin/capa-sync.js');
const RECORDS = 20_000;
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
const workers: ChildProcess[] = [];

afterAll(async () => {
  workers.forEach((w) => w.kill('SIGKILL'));
  await sim?.stop();
  await env?.teardown();
});

it('carries a 20,000-row batch on the other worker when the one applying it dies with its disk', async () => {
  env = await startDevServer();
  sim = await startSimulator({ faults: { latencyMs: 1_500 } });
  sim.store.seed(sampleRecords({ count: RECORDS, lockedFraction: 0 }));
  const settings = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'failover',
    CAPA_PAGE_SIZE: '2000',
    ...ONE_VALUE_EXPORTS,
  };
  const config = await testConfig(sim, settings);
  const store = await testStore(config.databaseUrl);
  const disks = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'capa-worker-disk-')));
  // Workers on two hosts sign the audit trail's heads with one key, given to both as a secret would be.
  const keys = defaultKeyFiles(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-audit-key-')));
  writeKeyPair(keys);
  const started = disks.map(async (disk) => {
    let logs = '';
    const worker = spawn('node', [CLI, 'worker'], {
      env: {
        ...process.env,
        ...settings,
        VAULT_BASE_URL: sim.baseUrl,
        CAPA_DATA_DIR: disk,
        CAPA_DATABASE_URL: config.databaseUrl,
        CAPA_AUDIT_SIGNING_KEY_FILE: keys.privateKey,
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
  // Staged in the store as `capa-sync run` does: whichever worker prepares it reads it from there.
  const source = await store.staged.stage(writeCsv(rows));
  const handle = await startBatch(env.client, config, { source, batchId: 'failover-1' });
  const page = await waitFor('a page being applied', async () =>
    ((await handle.describe()).raw.pendingActivities ?? []).find(
      (a) => a.activityType?.name === 'applyPage' && a.lastWorkerIdentity,
    ),
  );
  const victim = workers.find((w) => page.lastWorkerIdentity!.startsWith(`${w.pid}@`))!;
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  fs.rmSync(disks[workers.indexOf(victim)], { recursive: true, force: true });

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

  // Every row reconciles: one result a row, for its own record.
  const results: RowResult[] = [];
  for await (const r of store.batches.results('failover-1')) results.push(r);
  expect(results.length).toBe(RECORDS);
  expect(
    results.filter((r, i) => r.row !== i + 1 || r.recordId !== rows[i].capa_id || r.outcome !== 'updated'),
  ).toEqual([]);
  // Vault took each value once, and the audit has exactly one entry for each value Vault took.
  const count = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
  const vaultWrites = count(
    sim.store.audit.filter((a) => a.user === 'sync.user@example.com').map((a) => `${a.recordId}/${a.field}`),
  );
  const audited = count((await store.audit.writes({ batchId: 'failover-1' })).map((e) => `${e.recordId}/${e.field}`));
  expect([...vaultWrites.values()].filter((n) => n > 1)).toEqual([]);
  const holding = rows.filter(
    (r) =>
      sim.store.records.get(r.capa_id)!.fields.priority__c === 'High' &&
      sim.store.records.get(r.capa_id)!.fields.risk_score__c === 42,
  );
  expect(holding.length).toBe(RECORDS);
  expect(audited).toEqual(vaultWrites);
  expect(await store.audit.verify({ publicKeys: [readPublicKey(keys.publicKey)] })).toMatchObject({
    problems: [],
    anchoredTo: expect.objectContaining({ seq: expect.any(Number) }),
  });
}, 300_000);
