import { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSimulator } from '../src/simulator/server';
import { SETTINGS } from '../src/config';
import { cancelSignal, statusQuery } from '../src/contracts/record-messages';
import { startTimeSkippingServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { testWorker, startRecordWorkflow } from './helpers/record-env';

// The polling cost of many waiting records, on a server of its own (time skipping is global to a server).
const LOCKED = 'under_review_state__c';
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;

beforeAll(async () => {
  env = await startTimeSkippingServer();
  sim = await startSimulator();
});
afterAll(async () => {
  await sim?.stop();
  await env?.teardown();
});

it('reads 200 waiting records with one Vault query per tick', async () => {
  const ids = Array.from({ length: 200 }, (_, i) => `W${i}`);
  sim.store.seed(ids.map((id) => ({ id, state__v: LOCKED, fields: { priority__c: 'Low' } })));
  const taskQueue = 'polling-cost';
  // The production window: a tick's timer-woken checks come within it, and share one read.
  const { worker } = await testWorker(env, sim, taskQueue, {
    settings: {
      VAULT_GROUP_QUIET_MS: SETTINGS.VAULT_GROUP_QUIET_MS.default,
      VAULT_GROUP_HOLD_MS: SETTINGS.VAULT_GROUP_HOLD_MS.default,
    },
  });
  await worker.runUntil(async () => {
    const handles = await Promise.all(
      ids.map((id) =>
        startRecordWorkflow(env, taskQueue, {
          recordId: id,
          desired: { priority__c: 'High' },
          baseline: { priority__c: 'Low' },
        }),
      ),
    );
    await env.sleep('1 minute'); // every workflow has made its first (unaligned) read
    const before = sim.calls.query;
    await env.sleep('30 minutes');
    const ticks = 6;
    expect(sim.calls.query - before).toBeLessThanOrEqual(ticks + 1);
    const attempts = await Promise.all(handles.map((h) => h.query(statusQuery).then((s) => s.attempts)));
    attempts.forEach((n) => expect(n).toBeGreaterThanOrEqual(ticks));
    await Promise.all(handles.map((h) => h.signal(cancelSignal, { operator: 'test', reason: 'cleanup' })));
  });
});
