import { operatorEnv, runCli } from './helpers/cli';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { sampleRecordId } from '../src/simulator/seed';
import { type PlanSummary, planWorkflowId } from '../src/contracts/plan-messages';
import { saveHistory } from './helpers/histories';
import { recordQuery } from '../src/contracts/visibility';
import { lockWatcherId } from '../src/contracts/lock-watch';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { launchChromium } from './helpers/browser';
import { ONE_VALUE_EXPORTS } from './helpers/gate';

// `capa-sync plan`: a dry run of a batch on the live vault (here the simulator, a dev server and the worker).

const RECORDS = 10_000;
let stack: DevStack;
let browser: Browser;
let cliEnv: Record<string, string>;
let plan: PlanSummary;

const json = async (...args: string[]) => {
  const r = await runCli(cliEnv, [...args, '--json']);
  expect([r.code, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout);
};
const runningRecords = async () =>
  (await stack.env.client.workflow.count(recordQuery({ object: 'capa__c', running: true }))).count;

beforeAll(async () => {
  stack = await startDevStack({
    records: RECORDS,
    lockedFraction: 0.05,
    taskQueue: 'plan',
    settings: ONE_VALUE_EXPORTS,
  });
  cliEnv = operatorEnv(stack, 'plan');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it('plans a 10,000-row export without writing, and the batch then does row by row what the plan said', async () => {
  const { sim } = stack;
  const locked = [...sim.store.records.values()].filter((r) => sim.store.isLocked(r)).map((r) => r.id);
  // Three locked records already wait from an earlier night: the plan says they would get the new values.
  await json('run', '--source', writeCsv(locked.slice(0, 3).map((id) => ({ capa_id: id, priority: 'Medium' }))));
  // Their lock watcher stops: its ticks (on the wall clock's 5 minutes) would add queries to the plan's. The batch
  // below starts it again.
  await stack.env.client.workflow.getHandle(lockWatcherId('capa__c')).terminate("test: counting the plan's queries");
  // Every priority High (a third already is), half the risk scores new; a record Vault lacks, a bad value, a repeat.
  const rows: Record<string, string | number>[] = Array.from({ length: RECORDS }, (_, i) => ({
    capa_id: sampleRecordId(i),
    priority: 'High',
    risk_score: i % 2 ? 50 : (i * 7) % 101,
  }));
  rows.push({ capa_id: sampleRecordId(1, 'NOP'), priority: 'High', risk_score: 1 });
  rows.push({ capa_id: sampleRecordId(5), priority: 'Urgent', risk_score: 1 });
  rows.push({ capa_id: sampleRecordId(8), priority: 'Low', risk_score: 3 }); // supersedes row 9
  const source = writeCsv(rows);

  const writes = sim.store.audit.length;
  const queries = sim.calls.query ?? 0;
  const waiting = await runningRecords();
  const out = path.join(cliEnv.CAPA_DATA_DIR, 'plan-1');
  plan = await json('plan', '--source', source, '--plan-id', 'plan-1', '--out', out);
  // From the page-window patch on (the plan's first fixture).
  await saveHistory('page-window-plan', stack.env.client.workflow.getHandle(planWorkflowId('capa__c', 'plan-1')));
  expect(sim.store.audit.length).toBe(writes); // nothing written to Vault
  expect(await runningRecords()).toBe(waiting); // no record workflow started
  // Bulk reads as a batch makes them: one query per 1,000 ids of each 5,000-row page.
  expect((sim.calls.query ?? 0) - queries).toBe(11);
  expect(plan.counts).toMatchObject({ 'already-waiting': 3, 'not-found': 1, rejected: 1, superseded: 1 });
  expect(plan.counts.wait).toBe(locked.length - 3);
  expect(plan.counts.unchanged).toBeGreaterThan(1000);
  const planned = new Map(
    fs
      .readFileSync(plan.reports.csv, 'utf8')
      .split('\r')
      .slice(1, -1)
      .map((line) => line.split(',', 3))
      .map(([row, , action]) => [Number(row), action]),
  );
  expect(planned.size).toBe(rows.length);
  const csv = fs.readFileSync(plan.reports.csv, 'utf8');
  expect(csv).toContain(`1,${sampleRecordId(0)},unchanged,`);
  expect(csv).toContain(`4,${sampleRecordId(3)},update,in_progress_state__c,risk_score__c: 21 -> 50,`);

  // The same export as a batch, on the vault as the plan found it.
  await json('run', '--source', source, '--batch-id', 'after-plan');
  const outcomeOf = { update: 'updated', unchanged: 'unchanged', wait: 'waiting', 'already-waiting': 'waiting' };
  const expected = (action: string) =>
    (outcomeOf as Record<string, string>)[action] ?? (action === 'not-found' ? 'failed' : action);
  const differing: string[] = [];
  for await (const r of stack.ctx.store.batches.results('after-plan'))
    if (expected(planned.get(r.row)!) !== r.outcome)
      differing.push(`row ${r.row}: ${planned.get(r.row)} -> ${r.outcome}`);
  expect(differing).toEqual([]);
}, 300_000);

it("shows an approver the plan on one page in Chromium: counts, each field's values before and after, the rows that change most", async () => {
  const page = await browser.newPage();
  await page.goto(`file://${plan.reports.html}`);
  expect(await page.locator('#counts').innerText()).toContain(`update\t${plan.counts.update}`);
  const priority = page.locator('#field-priority__c');
  expect(await priority.locator('p').innerText()).toMatch(/^\d+ records would change\.$/);
  expect(await priority.locator('caption').allInnerTexts()).toEqual(['now', 'after the batch']);
  // After the batch every changed priority is High: one bar, full width.
  const after = priority.locator('table').nth(1);
  expect(await after.locator('td:first-child').allInnerTexts()).toEqual(['High']);
  expect(await after.locator('.bar span').getAttribute('style')).toBe('width:100%');
  expect(await page.locator('#most-changed tr').count()).toBe(21);
  await page.close();
});
