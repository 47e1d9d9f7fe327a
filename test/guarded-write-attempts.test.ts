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
const SYNC_USER = 'sync.user@example.com';
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

// Two histories the record cannot tell apart: the values it holds are the same after each.
it.each([
  ['Vault never took, and a reviewer then set its priority to the value it sent', 'V2R000000000102', false],
  ['Vault took, and a reviewer then put its risk score back', 'V2R000000000103', true],
])('neither audits nor writes over an earlier attempt whose write %s: it stops for a person', async (_, id, took) => {
  sim.store.seed([{ id, state__v: 'in_progress_state__c', fields: { priority__c: 'Low', risk_score__c: 10 } }]);
  const writeId = `capa-sync:capa__c:${id}/run-1/7`;
  const sent = { priority__c: 'High', risk_score__c: 42 };
  const before = { priority__c: 'Low', risk_score__c: 10 };
  // Attempt 1 saved its intent, and died before its answer came back.
  await store.intents.claim([{ writeId, attempt: 1, recordId: id, values: sent, before }]);
  if (took) {
    sim.store.editByHand(id, sent, SYNC_USER);
    sim.store.editByHand(id, { risk_score__c: 10 }, REVIEWER);
  } else sim.store.editByHand(id, { priority__c: 'High' }, REVIEWER);
  expect(sim.store.records.get(id)!.fields).toMatchObject({ priority__c: 'High', risk_score__c: 10 });

  const retry = createGuardedWrites({ vault: clientFor(sim), store, logger: silentLogger, window: WINDOW });
  const answer = await attempt(2, id).run(retry, { ...input, desired: sent, baseline: before, recordId: id });
  expect(answer).toMatchObject({
    status: 'conflict',
    fields: ['priority__c', 'risk_score__c'],
    values: { priority__c: 'High', risk_score__c: 10 },
  });
  expect(sim.store.records.get(id)!.fields).toMatchObject({ priority__c: 'High', risk_score__c: 10 });
  expect((await store.audit.writes({ batchId: 'attempts' })).filter((e) => e.recordId === id)).toEqual([]);
  // Its intent stays, unaudited: Vault's own audit log says whether the write happened.
  expect([...(await store.intents.pending([writeId])).keys()]).toEqual([writeId]);
});
