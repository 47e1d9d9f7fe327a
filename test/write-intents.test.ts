import { testDatabaseUrl, testStore } from './helpers/postgres';

// The write intents fence an attempt Temporal gave up on (a process cut off from it): on a real PostgreSQL.

const intent = (attempt: number, values: Record<string, string>, before: Record<string, string>) => ({
  ...{ writeId: 'wf-R1/activity-7', attempt, recordId: 'R1' },
  ...{ values, before },
});

it('refuses an older attempt its claim, even after a later attempt settled the write, and lets a later one claim', async () => {
  const store = await testStore(await testDatabaseUrl());
  const id = 'wf-R1/activity-7';
  expect(await store.intents.claim([intent(2, { priority__c: 'High' }, { priority__c: 'Low' })])).toEqual(
    new Set([id]),
  );
  // Attempt 2 wrote and audited: nothing is left for a retry to audit.
  await store.intents.settle([id]);
  expect(await store.intents.pending([id])).toEqual(new Map());
  // Attempt 1, frozen since before its claim, comes back: it may not send.
  expect(await store.intents.claim([intent(1, { priority__c: 'High' }, { priority__c: 'Medium' })])).toEqual(new Set());
  // Attempt 3 (attempt 2's answer lost after it settled) may: it read Vault afresh, its values and before are its own.
  expect(await store.intents.claim([intent(3, { priority__c: 'Urgent' }, { priority__c: 'High' })])).toEqual(
    new Set([id]),
  );
  expect(await store.intents.pending([id])).toEqual(
    new Map([[id, { values: { priority__c: 'Urgent' }, before: { priority__c: 'High' } }]]),
  );
});
