import { spawn } from 'node:child_process';
import type { RowResult } from '../src/contracts/batch-messages';
import { freePort } from '../src/temporal/dev-server';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { ensureDatabase } from '../src/store/embedded-postgres';
import { migratedDatabase, startThrowawayPostgres } from './helpers/throwaway-postgres';
import { progressQuery } from '../src/contracts/batch-messages';
import { DevStack, startDevStack, workerEnvOf } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { ownerUrlOf, testDatabaseUrl } from './helpers/postgres';
import { openStore } from '../src/store/store';
import { silentLogger } from '../src/observability/logger';
import { waitFor } from './helpers/wait';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { MIGRATIONS } from '../src/store/schema';
import { verifyTrail } from './helpers/audit';
import { CLI, startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './helpers/worker-process';

// The store failing: absent when the worker starts, refusing its password, or lost in the middle of a batch.

/** `capa-sync worker` with the database URL given; resolves when it exits. */
const workerWith = (databaseUrl: string) =>
  new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn('node', [CLI, 'worker'], {
      env: { ...process.env, CAPA_DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (status) => resolve({ status, output }));
  });

it('stops a worker whose database is down at start with a clear error naming CAPA_DATABASE_URL', async () => {
  const url = `postgres://capa:s3cret-pw@127.0.0.1:${await freePort()}/capa_sync`;
  const { status, output } = await workerWith(url);
  expect(status).toBe(1);
  expect(output).toMatch(/cannot reach the database at CAPA_DATABASE_URL \(postgres:\/\/capa:\*\*\*@127\.0\.0\.1:\d+/);
  expect(output).toContain('ECONNREFUSED');
  expect(output).not.toContain('s3cret-pw');
  expect(output).not.toMatch(/\n\s+at /); // no stack trace
});

it('stops a worker whose database refuses the password, never printing the password', async () => {
  const url = new URL(await testDatabaseUrl());
  url.password = 'not-the-password-77';
  const { status, output } = await workerWith(url.toString());
  expect(status).toBe(1);
  expect(output).toContain('the database refused the credentials in CAPA_DATABASE_URL (postgres://capa_runtime:***@');
  expect(output).not.toContain('not-the-password-77');
});

it('stops a worker on a store its owner never migrated, saying which command to run', async () => {
  const owner = new URL(ownerUrlOf(await testDatabaseUrl()));
  owner.pathname = '/never_migrated';
  const runtime = new URL(owner);
  Object.assign(runtime, { username: 'capa_unmigrated', password: 'pw' });
  await ensureDatabase(owner.toString(), runtime.toString());
  const { status, output } = await workerWith(runtime.toString());
  expect(status).toBe(1);
  expect(output).toContain(
    `the store's schema is at version 0, this release needs ${MIGRATIONS.length}: run \`capa-sync db migrate\` with CAPA_DATABASE_OWNER_URL`,
  );
});

describe('a database lost in the middle of a batch', () => {
  const RECORDS = 3000;
  let postgres: Awaited<ReturnType<typeof startThrowawayPostgres>>;
  let stack: DevStack;
  // A plain \`capa-sync worker\` process beside the test's own worker, with no supervisor to start it again.
  let worker: WorkerProcess;

  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
    const runtime = await migratedDatabase(postgres, 'capa_sync');
    stack = await startDevStack({
      records: RECORDS,
      lockedFraction: 0.05,
      taskQueue: 'lost-db',
      settings: { CAPA_DATABASE_URL: runtime, CAPA_PAGE_SIZE: '300', ...ONE_VALUE_EXPORTS },
    });
    stack.sim.setFaults({ latencyMs: 200 });
    worker = await startWorkerProcess(workerEnvOf(stack, 'lost-db', { CAPA_PAGE_SIZE: '300', ...ONE_VALUE_EXPORTS }));
  });

  afterAll(async () => {
    if (worker) await stopWorkerProcess(worker, 'SIGTERM');
    await stack?.stop();
    await postgres?.stop();
  });

  it('retries its activities until the database is back, then finishes with every row accounted for, and no worker dies', async () => {
    const rows = Array.from({ length: RECORDS }, (_, i) => ({ capa_id: sampleRecordId(i), priority: 'Medium' }));
    const handle = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId: 'lost-1' });
    await waitFor('a page applied', async () => (await handle.query(progressQuery)).pagesDone >= 1);
    await postgres.restart(async () => {
      const downAt = (await handle.query(progressQuery)).pagesDone;
      // A minute, as a failover may take.
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      // Nothing moved while the store was away: a page cannot finish without it.
      expect((await handle.query(progressQuery)).pagesDone).toBeLessThanOrEqual(downAt + 2);
    });

    const summary = await handle.result();
    const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(RECORDS);
    expect(summary.counts.failed).toBe(0);
    const results: RowResult[] = [];
    for await (const r of stack.ctx.store.batches.results('lost-1')) results.push(r);
    expect(results.map((r) => r.row)).toEqual(rows.map((_, i) => i + 1));
    // Every value Vault took is audited exactly once, and the chain is whole.
    const vaultWrites = stack.sim.store.audit
      .filter((a) => a.user === 'sync.user@example.com')
      .map((a) => `${a.recordId}/${a.field}`)
      .sort();
    const audited = (await stack.ctx.store.audit.writes({ batchId: 'lost-1' })).map((e) => `${e.recordId}/${e.field}`);
    expect(audited.sort()).toEqual(vaultWrites);
    expect(await verifyTrail(stack.ctx.store, stack.ctx.config)).toMatchObject({ problems: [] });
    // The worker process lived through the restart: its connections that died were only failed queries.
    expect({ exitCode: worker.child.exitCode, signal: worker.child.signalCode }).toEqual({
      exitCode: null,
      signal: null,
    });
    expect(worker.log()).not.toContain('Error: Connection terminated unexpectedly\n');
  }, 360_000);
});

it('has closed every connection when its close resolves: a server stopped right after drops none of them', async () => {
  const server = await startThrowawayPostgres();
  const url = await migratedDatabase(server, 'closing');
  const lost: string[] = [];
  try {
    // A race: a few rounds make a connection left open show up.
    for (let round = 0; round < 4; round++) {
      const store = await openStore(url, { ...silentLogger, warn: (message) => lost.push(message) });
      // A full pool of idle connections, as a worker's holds after a busy page.
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.batches.page(`closing-${i}`, 0)));
      await store.close();
      await server.restart(async () => undefined); // its stop comes right after the close, as the demo's does
    }
  } finally {
    await server.stop();
  }
  expect(lost).toEqual([]);
});
