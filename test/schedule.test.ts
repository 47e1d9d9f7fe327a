import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Duration } from '@temporalio/common';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { DEFAULT_SCHEDULE_ID, upsertSchedule } from '../src/temporal/schedule';
import { startDevServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { testWorker } from './helpers/record-env';
import { writeCsv } from './helpers/exports';
import { waitFor } from './helpers/wait';

let env: TestWorkflowEnvironment;
let sim: VaultSimulator;

beforeAll(async () => {
  env = await startDevServer();
  sim = await startSimulator();
  sim.store.seed(sampleRecords({ count: 10, lockedFraction: 0 }));
});
afterAll(async () => {
  await sim?.stop();
  await env?.teardown();
});

it('creates the nightly schedule once, however often it is applied, and a trigger runs a batch', async () => {
  const ctx = await testWorker(env, sim, 'schedule');
  const source = writeCsv([{ capa_id: sampleRecordId(3), priority: 'High', risk_score: 1, due_date: '2027-01-01' }]);
  const spec = {
    scheduleId: DEFAULT_SCHEDULE_ID,
    cron: '0 2 * * *',
    timezone: 'Europe/Zurich',
    source,
    catchupWindow: '1 hour' as Duration,
  };
  expect(await upsertSchedule(env.client, ctx.config, spec)).toBe('created');
  expect(await upsertSchedule(env.client, ctx.config, { ...spec, cron: '30 1 * * *' })).toBe('updated');
  const schedules = [];
  for await (const s of env.client.schedule.list()) schedules.push(s.scheduleId);
  expect(schedules).toEqual([DEFAULT_SCHEDULE_ID]);

  const handle = env.client.schedule.getHandle(DEFAULT_SCHEDULE_ID);
  const described = await handle.describe();
  expect(described.spec.calendars).toHaveLength(1);
  expect(described.spec.timezone).toBe('Europe/Zurich');
  expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000 });

  await ctx.worker.runUntil(async () => {
    await handle.trigger();
    const run = await waitFor(
      'the triggered batch',
      async () => (await handle.describe()).info.recentActions[0]?.action.workflow,
    );
    expect(run.workflowId).toMatch(/^capa-batch:capa__c:nightly-/);
    const summary = await env.client.workflow.getHandle(run.workflowId).result();
    expect(summary).toMatchObject({ inputRows: 1, counts: { updated: 1 } });
  });
  expect(sim.store.records.get(sampleRecordId(3))!.fields.priority__c).toBe('High');
  await handle.pause('maintenance');
  expect((await handle.describe()).state.paused).toBe(true);
  await handle.delete();
});
