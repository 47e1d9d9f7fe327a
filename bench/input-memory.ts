/**
 * Worker memory on large and hostile input: `npm run bench:input`. Runs a worker process with the production heap
 * limit (256 MB) on its own dev server and simulator, once per source, and prints its peak RSS (VmHWM) and time:
 * a 200,000-row CSV of mixed valid and invalid rows (with no record locked, then with 5% locked), and a JSON array
 * with one 10 MB string.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { freePort, startDevServer } from '../src/temporal/dev-server';
import { migratedDatabase, startThrowawayPostgres } from '../test/helpers/throwaway-postgres';
import { ONE_VALUE_EXPORTS } from '../test/helpers/gate';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { VaultSimulator } from '../src/simulator/server';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../src/temporal/worker-memory';
import { workflowResult } from '../src/temporal/workflow-result';

const CLI = path.join(__dirname, '../bin/capa-sync.js');
const ROWS = 200_000;

/**
 * 200,000 rows: every 10th row invalid (a bad picklist value, a bad date, a bad
 * id, in turn), every 50th repeating the record of the row before.
 */
async function mixedCsv(file: string): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('capa_id,priority,risk_score,due_date,comment\n');
  const bad = [
    (id: string) => `${id},Urgent,5,2027-01-31`,
    (id: string) => `${id},High,5,2026-02-31`,
    () => 'x y,High,5,',
  ];
  for (let i = 0; i < ROWS; i++) {
    const id = sampleRecordId(i % 50 === 25 ? i - 1 : i);
    out.write(i % 10 === 3 ? `${bad[((i / 10) % 3) | 0](id)},x\n` : `${id},Low,${i % 101},2027-02-28,note ${i}\n`);
  }
  await new Promise((resolve) => out.end(resolve));
}

function hugeStringJson(file: string): void {
  const row = (i: number, extra = {}) => ({ capa_id: sampleRecordId(i), priority: 'Medium', ...extra });
  fs.writeFileSync(file, JSON.stringify([row(0), row(1, { comment: 'z'.repeat(10_000_000) }), row(2)]));
}

async function measure(label: string, source: string, records: number, lockedFraction = 0): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-input-'));
  const sim = new VaultSimulator();
  sim.store.seed(sampleRecords({ count: records, lockedFraction }));
  await sim.start();
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = await startDevServer(path.join(dataDir, 'temporal'), port, uiPort);
  const postgres = await startThrowawayPostgres();
  const env = {
    CAPA_DATABASE_URL: await migratedDatabase(postgres, 'capa_sync'),
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TASK_QUEUE: 'input-memory',
    VAULT_BASE_URL: sim.baseUrl,
    CAPA_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...ONE_VALUE_EXPORTS,
  };
  const worker = spawn('node', [...WORKER_NODE_ARGS, CLI, 'worker'], {
    env: { ...process.env, ...WORKER_ENV, ...env },
    stdio: 'ignore',
  });
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  try {
    const client = new Client({ connection });
    const started = Date.now();
    const summary = await workflowResult(await startBatch(client, loadConfig(env), { source, batchId: 'input' }));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1]);
    return `${label.padEnd(34)} ${String(Math.round(peakKb / 1024)).padStart(6)} MB ${seconds.padStart(7)} s   ${JSON.stringify(summary.counts)}`;
  } finally {
    worker.kill('SIGKILL');
    await connection.close();
    server.kill('SIGTERM');
    await sim.stop();
    await postgres.stop();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-input-files-'));
  const csv = path.join(dir, 'mixed.csv');
  const json = path.join(dir, 'huge-string.json');
  await mixedCsv(csv);
  hugeStringJson(json);
  console.log(`${'source'.padEnd(34)} peak RSS     time   outcomes (worker heap limit 256 MB; target < 400 MB)`);
  console.log(await measure('200,000 mixed CSV rows', csv, ROWS));
  // The same file where 5% of the records are locked: the worker also starts and holds 10,000 record workflows.
  console.log(await measure('the same, 5% of records locked', csv, ROWS, 0.05));
  console.log(await measure('JSON array with a 10 MB string', json, 10));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
