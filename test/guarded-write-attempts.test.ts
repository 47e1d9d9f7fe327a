import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGuardedWrites } from '../src/activities/guarded-writes';
import type { GuardedWriteInput } from '../src/contracts/record-activities';
import { silentLogger } from '../src/observability/logger';
import type { VaultSimulator } from '../src/simulator/server';
import type { Store } from '../src/store/store';
import type { VaultClient } from '../src/vault/client';
import { testDatabaseUrl, testStore } from './helpers/postgres';
import { clientFor, startSimulator } from './helpers/vault';
import { waitFor } from './helpers/wait';

// Two processes run attempts of one record's guarded write: one Temporal gave up on (cut off from it, or frozen
// past its timeout) and the retry it gave another worker. Real simulator over HTTP, real PostgreSQL.

const RECORD = 'V2R000000000101';
const OTHER = 'V2R000000000102';
const REVIEWER = 'reviewer@example.com';
const WINDOW = { quietMs: 10, maxHoldMs: 100 };
let sim: VaultSimulator;
let store: Store;

beforeAll(async () => {
  sim = await startSimulator();
  store = await testStore(await testDatabaseUrl());
});
afterAll(() => sim?.stop());

const input: GuardedWriteInput = {
  ...{ object: 'capa__c', recordId: RECORD, batchId: 'attempts', actor: { kind: 'integration' } },
  ...{ desired: { risk_score__c: 42 }, baseline: { risk_score__c: 10 } },
  ...{ sourceTimestamp: '2026-12-06T00:00:00.000Z', ownWritesSince: '2026-12-06T00:00:00.000Z' },
};
const attempt = (n: number, recordId = RECORD) =>
  new MockActivityEnvironment(
    {
      activityId: '7',
      attempt: n,
      workflowExecution: { workflowId: `capa-sync:capa__c:${recordId}`, runId: 'run-1' },
    },
    { logger: new DefaultLogger('ERROR') },
  );

/** The real client, whose record reads reach Vault at once but come back only when released. */
function heldReads(vault: VaultClient) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const seen = { read: false };
  const held = Object.create(vault) as VaultClient;
  held.readStates = async (...args) => {
    const states = await vault.readStates(...args);
    seen.read = true;
    await released;
    return states;
  };
  return { held, seen, release };
}

it("never lets an older attempt write on its read once a later attempt has read the record (and found a reviewer's edit)", async () => {
  sim.store.seed([{ id: RECORD, state__v: 'in_progress_state__c', fields: { risk_score__c: 10 } }]);
  const slow = heldReads(clientFor(sim));
  const cutOff = createGuardedWrites({ vault: slow.held, store, logger: silentLogger, window: WINDOW });
  const retry = createGuardedWrites({ vault: clientFor(sim), store, logger: silentLogger, window: WINDOW });

  // Attempt 1 reads 10, then stalls before its guard (a frozen process). Temporal retries on another worker.
  const first = attempt(1).run(cutOff, input);
  first.catch(() => undefined);
  await waitFor("attempt 1's read", async () => slow.seen.read, 10_000, 10);
  sim.store.editByHand(RECORD, { risk_score__c: 77 }, REVIEWER);
  // Attempt 2 reads the reviewer's 77: a conflict, nothing written.
  expect(await attempt(2).run(retry, input)).toMatchObject({ status: 'conflict', fields: ['risk_score__c'] });

  // Attempt 1 comes back with its read of 10: it must not write on it.
  slow.release();
  await first.then(
    () => undefined,
    () => undefined,
  );
  expect(sim.store.records.get(RECORD)!.fields.risk_score__c).toBe(77);
  expect(sim.store.audit.filter((a) => a.recordId === RECORD && a.user !== REVIEWER)).toEqual([]);
  expect(await store.audit.writes({ batchId: 'attempts' })).toEqual([]);
});

it('audits no write an earlier attempt never landed, though a reviewer since set one of its fields to its value', async () => {
  sim.store.seed([{ id: OTHER, state__v: 'in_progress_state__c', fields: { priority__c: 'Low', risk_score__c: 10 } }]);
  const writeId = `capa-sync:capa__c:${OTHER}/run-1/7`;
  // Attempt 1 saved its intent and died before its update reached Vault.
  await store.intents.claim([
    {
      ...{ writeId, attempt: 1, recordId: OTHER },
      ...{ values: { priority__c: 'High', risk_score__c: 42 }, before: { priority__c: 'Low', risk_score__c: 10 } },
    },
  ]);
  // A reviewer then sets the priority capa-sync was sending; the risk score still holds its old value.
  sim.store.editByHand(OTHER, { priority__c: 'High' }, REVIEWER);
  const retry = createGuardedWrites({ vault: clientFor(sim), store, logger: silentLogger, window: WINDOW });
  const both = {
    desired: { priority__c: 'High', risk_score__c: 42 },
    baseline: { priority__c: 'Low', risk_score__c: 10 },
  };
  expect(await attempt(2, OTHER).run(retry, { ...input, ...both, recordId: OTHER })).toMatchObject({
    status: 'written',
  });

  expect(sim.store.records.get(OTHER)!.fields).toMatchObject({ priority__c: 'High', risk_score__c: 42 });
  // The trail holds the one write Vault took (the risk score), once; the priority was the reviewer's.
  const entries = await store.audit.writes({ batchId: 'attempts' });
  expect(entries.filter((e) => e.recordId === OTHER).map((e) => [e.field, e.oldValue, e.newValue])).toEqual([
    ['risk_score__c', 10, 42],
  ]);
});
