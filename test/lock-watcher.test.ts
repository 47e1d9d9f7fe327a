import { setTimeout as sleep } from 'node:timers/promises';
import { lockWatcherId } from '../src/contracts/lock-watch';
import { recordWorkflowId, statusQuery } from '../src/contracts/record-messages';
import { startBatch } from '../src/cli/operations';
import { SETTINGS } from '../src/config';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack, workerEnvOf } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { answered, waitFor } from './helpers/wait';
import { saveHistory } from './helpers/histories';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { TURN_WAIT_MS } from './helpers/turns';

// The lock watcher on a dev server with two workers: what a tick costs with 1,200 records waiting, what a mass
// approval costs, and that a record still sees its unlock when the watcher stops.

const WAITING = 1_200;
const TICK_SECONDS = 2;
const QUEUE = 'watch';
const id = (i: number) => sampleRecordId(i);

let stack: DevStack;
let second: WorkerProcess;
const settings = {
  CAPA_TICK_SECONDS: String(TICK_SECONDS),
  // The production write-group window, whose bulk updates the mass approval counts.
  VAULT_GROUP_QUIET_MS: SETTINGS.VAULT_GROUP_QUIET_MS.default,
  VAULT_GROUP_HOLD_MS: SETTINGS.VAULT_GROUP_HOLD_MS.default,
  CAPA_SAFETY_CHECK_HOURS: String(30 / 3600),
  ...ONE_VALUE_EXPORTS,
};
const calls = () => ({ ...stack.sim.calls });
const record = (i: number) => stack.sim.store.records.get(id(i))!;
const handle = (i: number) => stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', id(i)));
const historyLength = async (i: number) => (await handle(i).describe()).historyLength;
const watcher = () => stack.ctx.store.watchers.last('capa__c');

beforeAll(async () => {
  stack = await startDevStack({
    records: WAITING + 100,
    lockedFraction: 0,
    taskQueue: QUEUE,
    settings,
    takesTurns: true,
  });
  // A second worker process on the same task queue and store, as compose runs them.
  second = await startWorkerProcess(workerEnvOf(stack, QUEUE, settings));
  for (let i = 0; i < WAITING; i++) stack.sim.store.moveState(record(i), 'under_review_state__c');
  const rows = Array.from({ length: WAITING + 100 }, (_, i) => ({ capa_id: id(i), priority: 'High', risk_score: 42 }));
  const batch = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId: 'watched' });
  expect((await batch.result()).counts).toMatchObject({ waiting: WAITING });
  await waitFor('the watcher to see every waiting record', async () => (await watcher())?.waiting === WAITING, 120_000);
}, 300_000 + TURN_WAIT_MS);

afterAll(async () => {
  if (second) await stopWorkerProcess(second, 'SIGTERM');
  await stack?.stop();
});

it('reads 1,200 waiting records in two queries a tick, whatever the workers, and wakes none of them', async () => {
  const sample = [0, 299, 600, 1_199];
  const before = { calls: calls(), lengths: await Promise.all(sample.map(historyLength)) };
  // Four of the watcher's ticks, as the store notes them: on a busy machine, where the dev server's persistence lags
  // behind 1,200 records' first steps, a tick takes far longer than 2 s (three ticks took 90 s in one CI run).
  const ticks = new Set<string>();
  const start = Date.now();
  for (const end = Date.now() + 240_000; ticks.size < 4 && Date.now() < end; await sleep(100))
    ticks.add((await watcher())!.tickedAt);
  expect(ticks.size).toBe(4);
  // Each tick read 1,200 states: ceil(1,200 / 1,000) queries (the first tick seen may have read before `before`).
  expect(calls().query - before.calls.query).toBeLessThanOrEqual(2 * ticks.size);
  expect(calls().query - before.calls.query).toBeGreaterThanOrEqual(2 * (ticks.size - 1));
  // No workflow task a tick for a record whose state did not change: only its own safety checks (every 30 s here,
  // 11 events each, and the patch marker of its first), where a wake a tick would have added 11 events a tick. On a
  // loaded machine one workflow task may time out and run again (3 events more).
  const safetyChecks = Math.ceil((Date.now() - start) / 30_000);
  const grown = (await Promise.all(sample.map(historyLength))).map((n, i) => n - before.lengths[i]);
  grown.forEach((n) => expect(n).toBeLessThanOrEqual(11 * safetyChecks + 1 + 3));
  expect(Math.max(...grown)).toBeLessThan(11 * ticks.size);
  expect((await handle(0).query(statusQuery)).watched).toBe(true);
}, 300_000);

it('starts a handed record with one patch marker and upserts none of the search attributes it started with', async () => {
  // Its first workflow task may still be queued behind the other records' first steps: on a loaded machine the dev
  // server takes minutes over them.
  const events = await waitFor(
    'its first workflow task',
    async () => {
      const history = (await handle(WAITING - 2).fetchHistory()).events ?? [];
      return history.some((e) => e.workflowTaskCompletedEventAttributes) && history;
    },
    180_000,
  );
  const first = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
  const next = events.findIndex((e, i) => i > first && e.workflowTaskScheduledEventAttributes);
  const commands = events.slice(first + 1, next < 0 ? undefined : next);
  // The SDK upserts TemporalChangeVersion with each patch it records: each upsert is one more visibility write.
  const markers = commands.filter((e) => e.markerRecordedEventAttributes);
  const upserted = commands.flatMap((e) =>
    Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
  );
  expect({ markers: markers.length, upserted }).toEqual({ markers: 1, upserted: ['TemporalChangeVersion'] });
});

it('writes 500 records approved at once in merged bulk updates, and a reviewer edit still needs a decision', async () => {
  const edited = [0, 1, 2];
  for (const i of edited) stack.sim.store.editByHand(id(i), { risk_score__c: 77 }, 'reviewer@example.com');
  const sizesBefore = stack.sim.updateRequestSizes.length;
  const approved = Array.from({ length: 500 }, (_, i) => i);
  for (const i of approved) stack.sim.store.moveState(record(i), 'closed_state__c');
  const written = approved.filter((i) => !edited.includes(i));
  // Only the fields that differ from Vault's are sent: a record that already holds every value is not in a request.
  const sent = written.filter((i) => record(i).fields.risk_score__c !== 42 || record(i).fields.priority__c !== 'High');
  await waitFor(
    'the approved records written',
    async () => written.every((i) => record(i).fields.risk_score__c === 42),
    120_000,
  );
  await waitFor('the edited records to need a decision', async () => {
    const states = await Promise.all(edited.map((i) => answered(handle(i).query(statusQuery))));
    return states.every((s) => s?.phase === 'needs-decision');
  });
  const sizes = stack.sim.updateRequestSizes.slice(sizesBefore);
  expect({ requests: sizes.length, records: sizes.reduce((a, b) => a + b, 0) }).toEqual({
    requests: expect.any(Number),
    records: sent.length,
  });
  // Merged by the write groups' short window (how many requests depends on how fast the workflows react: the bench
  // prints that figure); never more than 500 a request, and on average tens of records each.
  expect(sizes.filter((n) => n > 500)).toEqual([]);
  expect(sizes.length <= written.length / 10 ? [] : sizes).toEqual([]);
  await saveHistory('guarded-watched-unlock', handle(10));
  await saveHistory('handed-to-watcher-unlock', handle(11)); // from the handed-to-watcher patch on
  await saveHistory('current-record-handed-unlock', handle(12)); // from the current-record patch on
  expect(written.every((i) => record(i).fields.priority__c === 'High')).toBe(true);
  expect(edited.every((i) => record(i).fields.risk_score__c === 77)).toBe(true);
});

it('leaves a record to see its unlock by itself once the watcher stops ticking', async () => {
  const watcherHandle = stack.env.client.workflow.getHandle(lockWatcherId('capa__c'));
  await watcherHandle.terminate('test: the watcher stops');
  await saveHistory('guarded-lock-watcher', watcherHandle);
  await waitFor('the watcher to be stale', async () => (await watcher())?.current === false, 120_000);
  const i = WAITING - 1;
  stack.sim.store.moveState(record(i), 'closed_state__c');
  // Its safety check (30 s here) finds the watcher stale: it reads Vault itself, and writes.
  await waitFor('the record written by itself', async () => record(i).fields.risk_score__c === 42, 60_000);
  await waitFor(
    'its workflow to end applied',
    async () => (await answered(handle(i).query(statusQuery)))?.phase === 'applied',
  );
}, 300_000);
