import { once } from 'node:events';
import { temporal } from '@temporalio/proto';
import { recordWorkflowId, statusQuery } from '../src/contracts/record-messages';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { type AppConfig } from '../src/config';
import { onTaskQueue } from './helpers/config';
import { DevStack, startDevStack, workerEnvOf } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { answered, waitFor } from './helpers/wait';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { TURN_WAIT_MS } from './helpers/turns';
import { freePort } from '../src/temporal/dev-server';

// What the lock watcher promises each waiting record, whatever happens between its tick and the record's write:
// the conflict guard reads right before the write, every write Vault took is audited once, and one record's
// failure stays with that record.

const TICK_SECONDS = 2;
const { PendingActivityState } = temporal.api.enums.v1;
const id = (i: number) => sampleRecordId(i);
const REVIEWER = 'reviewer@example.com';
const EXPORTED = { priority__c: 'High', risk_score__c: 42 };

async function handOff(stack: DevStack, config: AppConfig, ids: number[], batchId: string) {
  for (const i of ids) stack.sim.store.moveState(stack.sim.store.records.get(id(i))!, 'under_review_state__c');
  const rows = ids.map((i) => ({ capa_id: id(i), priority: 'High', risk_score: 42 }));
  const batch = await startBatch(stack.env.client, config, { source: writeCsv(rows), batchId });
  expect((await batch.result()).counts).toMatchObject({ waiting: ids.length });
}

const approve = (stack: DevStack, ids: number[]) =>
  ids.forEach((i) => stack.sim.store.moveState(stack.sim.store.records.get(id(i))!, 'closed_state__c'));
const status = (stack: DevStack, i: number) =>
  stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', id(i))).query(statusQuery);
const value = (stack: DevStack, i: number, field: string) => stack.sim.store.records.get(id(i))!.fields[field];
/** What capa-sync's own Vault user wrote to a record, from the simulator's audit log. */
const vaultWrites = (stack: DevStack, i: number) =>
  stack.sim.store.audit.filter((a) => a.recordId === id(i) && a.user === 'sync.user@example.com');

describe('a reviewer edits a record after the watcher read it unlocked', () => {
  let stack: DevStack;
  /** The record whose refused update a reviewer's edit stopped (it keeps that edit). */
  let refusedEarlier = -1;
  beforeAll(async () => {
    // A wide group window: the record's own read comes seconds after the watcher's, as on a busy worker.
    const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), VAULT_GROUP_QUIET_MS: '3000', ...ONE_VALUE_EXPORTS };
    stack = await startDevStack({ records: 10, lockedFraction: 0, taskQueue: 'edit-after-read', settings });
  }, 300_000);
  afterAll(() => stack?.stop());

  it('stops in needs-decision and keeps the edit: the guard read Vault again right before its write', async () => {
    await handOff(stack, stack.ctx.config, [0, 1], 'edit-after-read');
    // Record 1 was edited during review: it will never write, as at a real mass approval.
    stack.sim.store.editByHand(id(1), { risk_score__c: 13 }, REVIEWER);
    const approvedAt = Date.now();
    approve(stack, [0, 1]);
    await waitFor(
      "the watcher's tick that saw the approval",
      async () => Date.parse((await stack.ctx.store.watchers.last('capa__c'))?.tickedAt ?? '0') > approvedAt,
      60_000,
      20,
    );
    // The reviewer edits record 0 just after the watcher read it unlocked, before its write.
    stack.sim.store.editByHand(id(0), { risk_score__c: 77 }, REVIEWER);
    await waitFor('record 0 to need a decision', async () => (await status(stack, 0)).phase === 'needs-decision');
    expect((await status(stack, 0)).needsDecision).toMatchObject({ reason: 'conflict', fields: ['risk_score__c'] });
    expect(value(stack, 0, 'risk_score__c')).toBe(77);
    expect(vaultWrites(stack, 0).filter((w) => w.field === 'risk_score__c')).toEqual([]);
    expect(await stack.ctx.store.audit.writes({ batchId: 'edit-after-read' })).toEqual([]);
  });
  it('sends only the fields that differ from its read: an edit of one that already held its value, landing just before the update, stays', async () => {
    // A record whose priority already holds the exported value, and whose risk score does not.
    const i = [2, 3, 4, 5, 6, 7, 8, 9].find(
      (n) => value(stack, n, 'priority__c') !== 'High' && value(stack, n, 'risk_score__c') !== 42,
    )!;
    stack.sim.store.editByHand(id(i), { priority__c: 'High' }, 'setup@example.com');
    await handOff(stack, stack.ctx.config, [i], 'edit-before-update');
    stack.sim.setFaults({ editsBeforeUpdate: { [id(i)]: { priority__c: 'Low' } } });
    approve(stack, [i]);
    await waitFor('the record applied', async () => (await status(stack, i)).phase === 'applied');
    expect(value(stack, i, 'risk_score__c')).toBe(42);
    expect(value(stack, i, 'priority__c')).toBe('Low');
    expect(vaultWrites(stack, i).map((w) => w.field)).toEqual(['risk_score__c']);
    const entries = await stack.ctx.store.audit.writes({ batchId: 'edit-before-update' });
    expect(entries.map((e) => [e.recordId, e.field, e.newValue])).toEqual([[id(i), 'risk_score__c', 42]]);
  });
  it('sends a write Vault refused with a 429 only after reading again: an edit made meanwhile stops it, and stays', async () => {
    // A record whose risk score is still to be written (the records above hold theirs, or a reviewer's).
    const i = [2, 3, 4, 5, 6, 7, 8, 9].find((n) => value(stack, n, 'risk_score__c') !== 42)!;
    refusedEarlier = i;
    await handOff(stack, stack.ctx.config, [i], 'edit-while-refused');
    await waitFor('the watcher to read the waiting record', async () => (await status(stack, i)).watched);
    // Vault answers the update with a 429 (Retry-After 1 s), and the reviewer edits the record meanwhile.
    stack.sim.setFaults({ editsWhileRateLimited: { [id(i)]: { risk_score__c: 77 } } });
    approve(stack, [i]);
    await waitFor('the record to need a decision', async () => (await status(stack, i)).phase === 'needs-decision');
    expect((await status(stack, i)).needsDecision).toMatchObject({ reason: 'conflict', fields: ['risk_score__c'] });
    expect(value(stack, i, 'risk_score__c')).toBe(77);
    expect(vaultWrites(stack, i)).toEqual([]);
    expect(await stack.ctx.store.audit.writes({ batchId: 'edit-while-refused' })).toEqual([]);
  });
  it('audits no write for a request Vault refused, where a reviewer then set the value capa-sync was sending', async () => {
    const i = [2, 3, 4, 5, 6, 7, 8, 9].find((n) => value(stack, n, 'risk_score__c') !== 42 && n !== refusedEarlier)!;
    await handOff(stack, stack.ctx.config, [i], 'same-value-while-refused');
    await waitFor('the watcher to read the waiting record', async () => (await status(stack, i)).watched);
    // Vault refuses the update (429); meanwhile the reviewer sets the very risk score and priority capa-sync sends.
    stack.sim.setFaults({ editsWhileRateLimited: { [id(i)]: EXPORTED } });
    approve(stack, [i]);
    await waitFor('the record applied', async () => (await status(stack, i)).phase === 'applied');
    expect(value(stack, i, 'risk_score__c')).toBe(42);
    expect(vaultWrites(stack, i)).toEqual([]);
    // Vault never took capa-sync's request: the trail says nothing of it, whatever the record holds now.
    expect(await stack.ctx.store.audit.writes({ batchId: 'same-value-while-refused' })).toEqual([]);
  });
});

describe('a lock endpoint that fails for one record and answers 404 for another, among 1,200 (customer dialect)', () => {
  const WAITING = 1_200;
  const APPROVED = 100;
  let stack: DevStack;
  beforeAll(async () => {
    const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), ...ONE_VALUE_EXPORTS };
    stack = await startDevStack({
      records: WAITING,
      lockedFraction: 0,
      taskQueue: 'one-bad-lock',
      dialect: 'customer',
      settings,
      takesTurns: true,
    });
    await handOff(
      stack,
      stack.ctx.config,
      Array.from({ length: WAITING }, (_, i) => i),
      'one-bad-lock',
    );
  }, 300_000 + TURN_WAIT_MS);
  afterAll(() => stack?.stop());

  it('passes over those records each tick, and reads, tells and writes the others', async () => {
    const [bad, gone] = [7, 8];
    stack.sim.setFaults({ failingLocks: [id(bad)], missingLocks: [id(gone)] });
    const approved = Array.from({ length: APPROVED }, (_, i) => i * 12);
    approve(stack, [...approved, bad, gone]);
    const others = approved.filter((i) => i !== bad && i !== gone);
    await waitFor(
      'the other approved records written',
      async () => others.every((i) => value(stack, i, 'risk_score__c') === 42),
      120_000,
    );
    await waitFor('their workflows applied', async () => (await status(stack, others[0])).phase === 'applied');
    // The records passed over are still waiting, and the watcher still ticks for everyone.
    for (const i of [bad, gone]) {
      expect((await status(stack, i)).phase).toBe('waiting-for-unlock');
      expect(value(stack, i, 'risk_score__c')).not.toBe(42);
    }
    const before = (await stack.ctx.store.watchers.last('capa__c'))!.tickedAt;
    await waitFor('another tick', async () => (await stack.ctx.store.watchers.last('capa__c'))!.tickedAt !== before);
    // Once their lock endpoint answers again, the next tick tells them and they are written.
    stack.sim.setFaults({ failingLocks: [], missingLocks: [] });
    await waitFor(
      'the records written',
      async () => [bad, gone].every((i) => value(stack, i, 'risk_score__c') === 42),
      60_000,
    );
  }, 300_000); // its waits add up to more than the default time-out on a loaded machine
});

describe('records their state says unlocked but the lock endpoint says locked (customer dialect)', () => {
  // A state capa-sync does not know as locking: only the lock endpoint tells it the record is held.
  const HELD = 'qa_hold_state__c';
  const held = Array.from({ length: 10 }, (_, i) => i);
  const reviewed = 10;
  let stack: DevStack;
  beforeAll(async () => {
    const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), ...ONE_VALUE_EXPORTS };
    stack = await startDevStack({
      ...{ records: 20, lockedFraction: 0, taskQueue: 'held-by-lock', dialect: 'customer', settings },
      lockedStates: ['under_review_state__c', HELD],
    });
    await handOff(stack, stack.ctx.config, [...held, reviewed], 'held-by-lock');
    // Under review, then on hold: still locked, but only the lock endpoint says so now.
    for (const i of held) stack.sim.store.moveState(stack.sim.store.records.get(id(i))!, HELD);
  }, 300_000);
  afterAll(() => stack?.stop());

  const tickAfter = async (since: string) => {
    await waitFor('the next tick', async () => (await stack.ctx.store.watchers.last('capa__c'))!.tickedAt > since);
    return (await stack.ctx.store.watchers.last('capa__c'))!;
  };

  it('tells them once, not at every tick, and a record approved meanwhile is written', async () => {
    await waitFor('the held records told of their lock', async () =>
      (await Promise.all(held.map((i) => status(stack, i)))).every((s) => s.vaultState === HELD),
    );
    const attempts = await Promise.all(held.map(async (i) => (await status(stack, i)).attempts));
    let tick = (await stack.ctx.store.watchers.last('capa__c'))!;
    for (let n = 0; n < 3; n++) {
      tick = await tickAfter(tick.tickedAt);
      expect(tick).toMatchObject({ waiting: held.length + 1, told: 0 });
    }
    approve(stack, [reviewed]);
    await waitFor('the approved record written', async () => (await status(stack, reviewed)).phase === 'applied');
    expect(value(stack, reviewed, 'risk_score__c')).toBe(42);
    // The held records tried no write: their lock is the watcher's news, and nothing changed since.
    expect(await Promise.all(held.map(async (i) => (await status(stack, i)).attempts))).toEqual(attempts);
    expect(held.flatMap((i) => vaultWrites(stack, i))).toEqual([]);
  });
});

/** A dev stack whose own worker serves another queue: `queue`'s tasks run only in the worker processes a test starts. */
const stackBesideWorkers = (queue: string, settings: Record<string, string>, dialect?: 'customer') =>
  startDevStack({ records: 10, lockedFraction: 0, taskQueue: `${queue}-other`, settings, dialect });

/** Kills the worker processes still running, then stops the stack. */
async function stopBesideWorkers(stack: DevStack | undefined, workers: WorkerProcess[]): Promise<void> {
  for (const w of workers) await stopWorkerProcess(w, 'SIGKILL');
  await stack?.stop();
}

describe('a lock endpoint that fails for one record (customer dialect), on a worker process', () => {
  let stack: DevStack;
  let workers: WorkerProcess[] = [];
  const QUEUE = 'failing-lock';
  const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), ...ONE_VALUE_EXPORTS };
  beforeAll(async () => {
    stack = await stackBesideWorkers(QUEUE, settings, 'customer');
  }, 300_000);
  afterAll(() => stopBesideWorkers(stack, workers));

  it("names the record it passes over in the worker's log and counts it in capa_sync_watcher_skipped", async () => {
    const metricsPort = await freePort();
    const env = { ...settings, VAULT_DIALECT: 'customer', METRICS_PORT: String(metricsPort) };
    workers = [await startWorkerProcess(workerEnvOf(stack, QUEUE, env))];
    const config = onTaskQueue(stack.ctx.config, QUEUE);
    const [bad, good] = [0, 1];
    await handOff(stack, config, [bad, good], 'failing-lock');
    stack.sim.setFaults({ failingLocks: [id(bad)] });
    approve(stack, [bad, good]);
    await waitFor('the other record applied', async () => (await status(stack, good)).phase === 'applied', 60_000);
    const passedOver = () =>
      workers[0]
        .log()
        .split('\n')
        .filter((l) => l.includes('lock watcher passed over records this tick'))
        .map((l) => JSON.parse(l) as { records: string[] });
    await waitFor('log lines naming the record at two ticks', async () => passedOver().length >= 2);
    for (const line of passedOver()) expect(line.records).toEqual([expect.stringContaining(id(bad))]);
    const skipped = async () => {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
      return Number(/capa_sync_watcher_skipped(?:\{[^}]*\})? (\d+)/.exec(text)?.[1] ?? 0);
    };
    await waitFor('the metric to count it at two ticks', async () => (await skipped()) >= 2);
    expect((await status(stack, bad)).phase).toBe('waiting-for-unlock');
    expect(value(stack, bad, 'risk_score__c')).not.toBe(42);
    stack.sim.setFaults({ failingLocks: [] });
    await waitFor('the record applied', async () => (await status(stack, bad)).phase === 'applied', 60_000);
    expect(value(stack, bad, 'risk_score__c')).toBe(42);
  }, 300_000);
});

describe('a worker killed between the bulk write and the audit', () => {
  let stack: DevStack;
  let workers: WorkerProcess[] = [];
  const QUEUE = 'killed-writer';
  const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), VAULT_GROUP_QUIET_MS: '200', ...ONE_VALUE_EXPORTS };
  const workerEnv = () => workerEnvOf(stack, QUEUE, settings);
  beforeAll(async () => {
    stack = await stackBesideWorkers(QUEUE, settings);
  }, 300_000);
  afterAll(() => stopBesideWorkers(stack, workers));

  it('audits each change of the write Vault took exactly once, from the retry on another worker', async () => {
    workers = [await startWorkerProcess(workerEnv())];
    const config = onTaskQueue(stack.ctx.config, QUEUE);
    const ids = [0, 1, 2];
    const before = ids.map((i) => ({
      priority: value(stack, i, 'priority__c'),
      risk: value(stack, i, 'risk_score__c'),
    }));
    await handOff(stack, config, ids, 'killed-writer');
    await waitFor('the watcher to read the waiting records', async () =>
      (await Promise.all(ids.map((i) => status(stack, i)))).every((s) => s.watched),
    );
    // Vault takes the write, but its answer never reaches the worker before it dies.
    stack.sim.setFaults({ lostAnswerRate: 1, hangMs: 120_000 });
    approve(stack, ids);
    await waitFor(
      'Vault to hold the written values',
      async () => ids.every((i) => value(stack, i, 'risk_score__c') === EXPORTED.risk_score__c),
      60_000,
      20,
    );
    workers[0].child.kill('SIGKILL');
    await once(workers[0].child, 'exit');
    stack.sim.setFaults({ lostAnswerRate: 0 });
    workers.push(await startWorkerProcess(workerEnv()));
    // A query the dead worker had taken times out: the wait rides it out.
    await waitFor(
      'the records applied',
      async () => (await Promise.all(ids.map((i) => answered(status(stack, i))))).every((s) => s?.phase === 'applied'),
      120_000,
    );
    const entries = await stack.ctx.store.audit.writes({ batchId: 'killed-writer' });
    const expected = ids.flatMap((i, k) => [
      ...(before[k].priority === EXPORTED.priority__c ? [] : [[id(i), 'priority__c', before[k].priority, 'High']]),
      ...(before[k].risk === EXPORTED.risk_score__c ? [] : [[id(i), 'risk_score__c', before[k].risk, 42]]),
    ]);
    expect(entries.map((e) => [e.recordId, e.field, e.oldValue, e.newValue]).sort()).toEqual(expected.sort());
  }, 300_000);
});

describe('a worker cut off from Temporal while its write group holds a record', () => {
  let stack: DevStack;
  let workers: WorkerProcess[] = [];
  const QUEUE = 'cut-off-writer';
  // A group that holds its records a few seconds: long enough to freeze the worker while it holds one.
  const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), VAULT_GROUP_QUIET_MS: '4000', ...ONE_VALUE_EXPORTS };
  const workerEnv = () => workerEnvOf(stack, QUEUE, settings);
  beforeAll(async () => {
    stack = await stackBesideWorkers(QUEUE, settings);
  }, 300_000);
  afterAll(() => stopBesideWorkers(stack, workers));

  it('sends nothing late over the write its retry made and a reviewer edit made since', async () => {
    workers = [await startWorkerProcess(workerEnv())];
    const config = onTaskQueue(stack.ctx.config, QUEUE);
    const i = [...Array(10).keys()].find((n) => value(stack, n, 'risk_score__c') !== 42)!;
    await handOff(stack, config, [i], 'cut-off-writer');
    await waitFor('the watcher to read the waiting record', async () => (await status(stack, i)).watched);
    approve(stack, [i]);
    const handle = stack.env.client.workflow.getHandle(recordWorkflowId('capa__c', id(i)));
    await waitFor('its guarded write held in the group', async () =>
      ((await handle.describe()).raw.pendingActivities ?? []).some(
        (a) =>
          a.activityType?.name === 'guardedWrite' && a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      ),
    );
    // Frozen: no heartbeat reaches Temporal, which gives its attempt to another worker.
    workers[0].child.kill('SIGSTOP');
    workers.push(await startWorkerProcess(workerEnv()));
    // A query the frozen worker had taken times out, as may a later one until its polls expire.
    const phase = async () => (await answered(status(stack, i)))?.phase;
    await waitFor('the record applied by the retry', async () => (await phase()) === 'applied', 120_000);
    stack.sim.store.editByHand(id(i), { risk_score__c: 77 }, REVIEWER);
    // The frozen process comes back and its group goes out: it must send nothing.
    workers[0].child.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    expect(value(stack, i, 'risk_score__c')).toBe(77);
    expect(vaultWrites(stack, i).filter((w) => w.field === 'risk_score__c')).toHaveLength(1);
    const entries = await stack.ctx.store.audit.writes({ batchId: 'cut-off-writer' });
    expect(entries.filter((e) => e.field === 'risk_score__c').map((e) => e.newValue)).toEqual([42]);
  }, 300_000);
});

describe('a write Vault took whose answer was lost, then a reviewer edit before the retry', () => {
  let stack: DevStack;
  beforeAll(async () => {
    // One try a call, so that the lost answer fails the activity attempt and Temporal retries it.
    const settings = { CAPA_TICK_SECONDS: String(TICK_SECONDS), VAULT_MAX_RETRIES: '0', ...ONE_VALUE_EXPORTS };
    stack = await startDevStack({ records: 10, lockedFraction: 0, taskQueue: 'lost-answer', settings });
  }, 300_000);
  afterAll(() => stack?.stop());

  it('audits the write it took and stops for the edit made since, which stays', async () => {
    // A record whose priority and risk score both change: the priority still shows that Vault took the update.
    const i = [...Array(10).keys()].find(
      (n) => value(stack, n, 'priority__c') !== 'High' && value(stack, n, 'risk_score__c') !== 42,
    )!;
    const before = { priority: value(stack, i, 'priority__c'), risk: value(stack, i, 'risk_score__c') };
    await handOff(stack, stack.ctx.config, [i], 'lost-answer');
    await waitFor('the watcher to read the waiting record', async () => (await status(stack, i)).watched);
    stack.sim.setFaults({ lostAnswerRate: 1, hangMs: 10_000 });
    approve(stack, [i]);
    await waitFor('Vault to hold the written values', async () => value(stack, i, 'risk_score__c') === 42, 60_000, 20);
    stack.sim.store.editByHand(id(i), { risk_score__c: 77 }, REVIEWER);
    stack.sim.setFaults({ lostAnswerRate: 0 });
    await waitFor('the record to need a decision', async () => (await status(stack, i)).phase === 'needs-decision');
    expect(value(stack, i, 'risk_score__c')).toBe(77);
    const entries = await stack.ctx.store.audit.writes({ batchId: 'lost-answer' });
    expect(entries.map((e) => [e.field, e.oldValue, e.newValue]).sort()).toEqual(
      [
        ['priority__c', before.priority, 'High'],
        ['risk_score__c', before.risk, 42],
      ].sort(),
    );
  });
});
