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

  it('moves to the control queue after its tick when a worker on its queue starts, and only then', async () => {
    const { client } = stack.env;
    const watcher = () => client.workflow.getHandle(lockWatcherId('capa__c'));
    const control = watcherOf(stack.ctx.config);
    await ensureLockWatcher(client, { ...control, taskQueue: 'moves' });
    const first = await watcher().describe();
    expect(first.taskQueue).toBe('moves');
    const ticked = async (runId: string) =>
      (await client.workflow.getHandle(lockWatcherId('capa__c'), runId).fetchHistory()).events!.some(
        (e) => e.activityTaskCompletedEventAttributes,
      );
    await waitFor('a tick on the old queue', () => ticked(first.runId));

    // A worker configured with other queues leaves it where it is.
    await startOrMoveLockWatcher(client, { ...control, taskQueue: 'elsewhere-control', from: 'elsewhere' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await watcher().describe()).runId).toBe(first.runId);

    await startOrMoveLockWatcher(client, { ...control, from: 'moves' });
    const moved = await waitFor('the watcher on the control queue', async () => {
      const now = await watcher().describe();
      return now.taskQueue === 'moves-control' && now;
    });
    expect(moved.runId).not.toBe(first.runId);
    await waitFor('a tick of the moved watcher', () => ticked(moved.runId));
    await saveHistory(
      'watcher-moves-to-control-queue',
      client.workflow.getHandle(lockWatcherId('capa__c'), first.runId),
    );

    // A later worker's start finds it there: it stays in its run.
    await startOrMoveLockWatcher(client, { ...control, from: 'moves' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await watcher().describe()).runId).toBe(moved.runId);
  });
});
