import { lockWatcherId } from '../src/contracts/lock-watch';
import { recordWorkflowId } from '../src/contracts/record-messages';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { ensureLockWatcher, startOrMoveLockWatcher } from '../src/temporal/record-workflows';
import { watcherOf } from '../src/worker';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { ONE_VALUE_EXPORTS } from './helpers/gate';
import { saveHistory } from './helpers/histories';
import { waitFor } from './helpers/wait';

// Batches and the lock watcher run on the control task queue: however many record workflows wait for their first
// step on the task queue (a batch that hands 200,000 records off queues as many), a batch ends and the watcher ticks.

const settings = { CAPA_TICK_SECONDS: '1', ...ONE_VALUE_EXPORTS };
const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ capa_id: sampleRecordId(i), priority: 'High', risk_score: 42 }));

describe('with no worker taking record workflows', () => {
  let stack: DevStack;
  beforeAll(async () => {
    stack = await startDevStack({ records: 300, lockedFraction: 0, taskQueue: 'ctl', settings, controlOnly: true });
  });
  afterAll(() => stack?.stop());

  it('ends a batch that hands records off, and its watcher ticks, both on the control queue', async () => {
    const { client } = stack.env;
    for (let i = 0; i < 100; i++)
      stack.sim.store.moveState(stack.sim.store.records.get(sampleRecordId(i))!, 'under_review_state__c');
    const batch = await startBatch(client, stack.ctx.config, { source: writeCsv(rows(300)), batchId: 'backlog' });
    expect((await batch.result()).counts).toMatchObject({ updated: 200, waiting: 100 });
    expect((await batch.describe()).taskQueue).toBe('ctl-control');

    const ticks = new Set<string>();
    await waitFor('three of the watcher ticks', async () => {
      const last = await stack.ctx.store.watchers.last('capa__c');
      if (last?.waiting === 100) ticks.add(last.tickedAt);
      return ticks.size >= 3;
    });
    expect((await client.workflow.getHandle(lockWatcherId('capa__c')).describe()).taskQueue).toBe('ctl-control');
    // Meanwhile no record workflow has run a workflow task: they are queued on the task queue nobody polls.
    const record = await client.workflow.getHandle(recordWorkflowId('capa__c', sampleRecordId(0))).fetchHistory();
    expect(record.events!.some((e) => e.workflowTaskCompletedEventAttributes)).toBe(false);
  });
});

describe('a lock watcher an earlier version started on the task queue', () => {
  let stack: DevStack;
  beforeAll(async () => {
    stack = await startDevStack({ records: 10, lockedFraction: 0, taskQueue: 'moves', settings });
  });
  afterAll(() => stack?.stop());

  it('moves to the control queue after its tick when a worker starts', async () => {
    const { client } = stack.env;
    const watcher = { ...watcherOf(stack.ctx.config), taskQueue: 'moves' };
    await ensureLockWatcher(client, watcher);
    const first = await client.workflow.getHandle(lockWatcherId('capa__c')).describe();
    expect(first.taskQueue).toBe('moves');

    await startOrMoveLockWatcher(client, watcherOf(stack.ctx.config));
    const moved = await waitFor('the watcher on the control queue', async () => {
      const now = await client.workflow.getHandle(lockWatcherId('capa__c')).describe();
      return now.taskQueue === 'moves-control' && now;
    });
    expect(moved.runId).not.toBe(first.runId);
    await waitFor('a tick of the moved watcher', async () => {
      const history = await client.workflow.getHandle(lockWatcherId('capa__c'), moved.runId).fetchHistory();
      return history.events!.some((e) => e.activityTaskCompletedEventAttributes);
    });
    await saveHistory(
      'watcher-moves-to-control-queue',
      client.workflow.getHandle(lockWatcherId('capa__c'), first.runId),
    );

    // A second worker's start finds it there: it stays in its run.
    await startOrMoveLockWatcher(client, watcherOf(stack.ctx.config));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await client.workflow.getHandle(lockWatcherId('capa__c')).describe()).runId).toBe(moved.runId);
  });
});
