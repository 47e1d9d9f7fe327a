import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createWatchActivities } from '../src/activities/watch-activities';
import { silentLogger } from '../src/observability/logger';
import type { VaultSimulator } from '../src/simulator/server';
import type { Store } from '../src/store/store';
import type { SyncMetrics } from '../src/temporal/metrics';
import type { VaultClient } from '../src/vault/client';
import { testDatabaseUrl, testSql, testStore } from './helpers/postgres';
import { startDevServer } from './helpers/temporal';
import { clientFor, startSimulator } from './helpers/vault';
import { waitFor } from './helpers/wait';

// A watcher attempt Temporal gave up on (timed out, its worker cut off) stops at once: it reads no further page and
// notes no read, so nothing it saw late overwrites what a later attempt noted. Real server, store and simulator.

const WAITING = 1_200; // two pages of the watcher's 1,000-id queries
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let store: Store;
let url: string;

beforeAll(async () => {
  env = await startDevServer();
  sim = await startSimulator();
  url = await testDatabaseUrl();
  store = await testStore(url);
  const sql = testSql(url);
  await sql.query(
    `INSERT INTO batches (batch_id, run_id, source, object, mapping, status) VALUES ('night', 'run', 'x.csv', 'capa__c', '{}', 'finished')`,
  );
  await sql.query(
    `INSERT INTO batch_rows (batch_id, row_no, record_id, outcome, workflow_id)
     SELECT 'night', n, 'R' || lpad(n::text, 5, '0'), 'waiting', 'wf-' || n FROM generate_series(1, $1) AS n`,
    [WAITING],
  );
}, 120_000);
afterAll(async () => {
  await sim?.stop();
  await env?.teardown();
});

it('reads no further page and notes no read once its attempt is cancelled', async () => {
  const vault = clientFor(sim);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const pagesRead: number[] = [];
  const held = Object.create(vault) as VaultClient;
  held.readStates = async (...args) => {
    const states = await vault.readStates(...args);
    pagesRead.push(args[1].length);
    await released;
    return states;
  };
  const metrics = { watcherSkipped: () => undefined } as unknown as SyncMetrics;
  const { watchLocks } = createWatchActivities({
    vault: held,
    temporal: env.client,
    store,
    logger: silentLogger,
    metrics,
    watchWindow: 1000,
    groupWindow: { quietMs: 1000, maxHoldMs: 30_000 },
  });
  const attempt = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
  const tick = attempt.run(watchLocks, { object: 'capa__c', tickAt: Date.now(), tickSeconds: 300 });
  tick.catch(() => undefined);
  await waitFor('the first page read', async () => pagesRead.length > 0, 10_000, 10);
  attempt.cancel('TIMED_OUT');
  release();
  await expect(tick).rejects.toBeInstanceOf(CancelledFailure);
  expect(pagesRead).toEqual([1_000]);
  const { rows } = await testSql(url).query('SELECT count(*)::int AS n FROM watched_records');
  expect(rows[0].n).toBe(0);
  expect(await store.watchers.last('capa__c')).toBeUndefined();
});
