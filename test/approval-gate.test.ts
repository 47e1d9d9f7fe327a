import { operatorEnv, runCli } from './helpers/cli';
import fs from 'node:fs';
import path from 'node:path';
import { GateFigures, gateFindings } from '../src/change-control/approval-gate';
import { loadConfig } from '../src/config';
import { batchWorkflowId, progressQuery } from '../src/contracts/batch-messages';
import { commandOrigin } from '../src/host/command-origin';
import { startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { waitFor } from './helpers/wait';
import type { Browser } from 'playwright-core';
import { launchChromium, waitForText } from './helpers/browser';
import { freePort } from '../src/temporal/dev-server';
import { MockActivityEnvironment } from '@temporalio/testing';
import { silentLogger } from '../src/observability/logger';
import { buildActivities } from '../src/worker';
import { testSql } from './helpers/postgres';

const DEFAULTS = loadConfig({}).gate;
const PRIORITIES = ['High', 'Medium', 'Low'];

describe('the default gate', () => {
  /** A night's figures: each row sets these values on a record that held `before`. */
  const figures = (
    n: number,
    values: (i: number) => Record<string, string | number>,
    before: (i: number) => Record<string, string | number>,
  ) => {
    const f = new GateFigures(['priority__c']);
    for (let i = 0; i < n; i++) f.add({ row: i + 1, action: 'update', values: values(i), before: before(i) });
    return f;
  };
  const seeded = (i: number) => ({ priority__c: PRIORITIES[i % 3], due_date__c: '2027-01-31', risk_score__c: 5 });

  it("lets the chaos harness's nights through: every record changed, priorities spread, one due date for all", () => {
    const night1 = figures(
      10_000,
      (i) => ({ priority__c: PRIORITIES[(i + 1) % 3], due_date__c: '2027-05-31' }),
      seeded,
    );
    expect(gateFindings(night1, DEFAULTS)).toEqual([]);
  });

  it('holds an export that sets every priority to one value', () => {
    const oneValue = figures(2_000, () => ({ priority__c: 'High' }), seeded);
    expect(gateFindings(oneValue, DEFAULTS)).toEqual([
      'priority__c would be "High" on 2000 of the 2000 rows that set it (more than 95% one value)',
    ]);
  });

  it('holds a field emptied on many records, and more changed records than allowed', () => {
    const emptied = figures(150, () => ({ due_date__c: null as unknown as string }), seeded);
    expect(gateFindings(emptied, DEFAULTS)).toEqual(['due_date__c would be emptied on 150 records (more than 100)']);
    const many = figures(120, (i) => ({ risk_score__c: 1000 + i }), seeded);
    expect(gateFindings(many, { ...DEFAULTS, maxChangedRecords: 100 })).toEqual([
      '120 records would change (more than 100)',
    ]);
    expect(gateFindings(many, { ...DEFAULTS, maxChangedPercentOfObject: 10 }, 1_000)).toEqual([
      "120 of the object's 1000 records would change (more than 10%)",
    ]);
  });
});

describe("a batch's figures", () => {
  it("are its pages' tallies added up, whatever each row would do", () => {
    const actions = ['update', 'unchanged', 'wait', 'already-waiting', 'not-found', 'changed-since'] as const;
    const rows = Array.from({ length: 1_200 }, (_, i) => ({
      row: i + 1,
      action: actions[i % actions.length],
      values: { priority__c: PRIORITIES[i % 3], due_date__c: i % 7 ? '2027-06-30' : null, risk_score__c: i % 11 },
      before: { priority__c: PRIORITIES[(i + (i % 2)) % 3], due_date__c: '2027-01-31', risk_score__c: i % 5 },
    }));
    const whole = new GateFigures(['priority__c']);
    rows.forEach((r) => whole.add(r));
    const merged = new GateFigures(['priority__c']);
    for (let start = 0; start < rows.length; start += 500) {
      const page = new GateFigures(['priority__c']);
      rows.slice(start, start + 500).forEach((r) => page.add(r));
      merged.merge(JSON.parse(JSON.stringify(page.tally()))); // as the store keeps it
    }
    expect(merged.tally()).toEqual(whole.tally());
    const strict = {
      ...DEFAULTS,
      ...{ maxChangedRecords: 10, maxEmptied: 10, maxFieldChangedPercent: 10, maxOnePicklistValuePercent: 30 },
      ...{ maxChangedPercentOfObject: 5, minRows: 100 },
    };
    expect(gateFindings(merged, strict, 2_000)).toEqual(gateFindings(whole, strict, 2_000));
    expect(gateFindings(merged, strict, 2_000)).toHaveLength(7); // every rule trips, on each field
  });
});

describe('a batch the gate holds', () => {
  const RECORDS = 1_500;
  let stack: DevStack;
  let cliEnv: Record<string, string>;
  let browser: Browser;
  let uiUrl: string;
  const cli = (...args: string[]) => runCli(cliEnv, args);
  /** Starts a batch that sets every priority to `priority` (as the Schedule would: no starter), and waits for the hold. */
  const held = async (batchId: string, priority: string, startedBy?: string) => {
    const rows = Array.from({ length: RECORDS }, (_, i) => ({ capa_id: sampleRecordId(i), priority }));
    const handle = await startBatch(stack.env.client, stack.ctx.config, { source: writeCsv(rows), batchId, startedBy });
    await waitFor(
      'the batch to be held',
      async () => (await handle.query(progressQuery)).phase === 'awaiting-approval',
    );
    return handle;
  };
  const vaultWrites = () => stack.sim.store.audit.filter((a) => a.user === 'sync.user@example.com').length;

  beforeAll(async () => {
    // A short wait for a decision, so that the time-out is seen within the test, yet long enough for the first test's
    // checks before it approves on a loaded machine; pages of 500 rows, so that the gate adds up several.
    const settings = { CAPA_APPROVAL_TIMEOUT_HOURS: String(60 / 3600), CAPA_PAGE_SIZE: '500' };
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    stack = await startDevStack({ records: RECORDS, lockedFraction: 0, taskQueue: 'gate', settings, uiPort });
    browser = await launchChromium();
    cliEnv = operatorEnv(stack, 'gate');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('writes nothing until approved, shows it held in list --batches and alerts with the commands; approve writes', async () => {
    const writes = vaultWrites();
    const handle = await held('all-high', 'High');
    expect(vaultWrites()).toBe(writes);
    const listed = await waitFor('the held batch in visibility', async () => {
      const r = await cli('list', '--batches', '--json');
      const found = JSON.parse(r.stdout).find((b: { batchId: string }) => b.batchId === 'all-high');
      return found?.approval === 'awaiting-approval' ? found : undefined;
    });
    expect(listed).toMatchObject({ workflowId: batchWorkflowId('capa__c', 'all-high') });
    // The Web UI finds it by its search attribute.
    const page = await browser.newPage();
    const query = encodeURIComponent('CapaBatchState="awaiting-approval"');
    await waitForText(page, `${uiUrl}/namespaces/default/workflows?query=${query}`, listed.workflowId);
    await page.close();
    const alert = stack.ctx.alerts.sent.find((a) => a.fields.kind === 'batch-held')!;
    expect(alert.title).toBe(
      'capa-sync batch all-high is waiting for approval: nothing is written until someone decides',
    );
    expect(alert.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Unusual: priority__c would be "High" on 1500 of the 1500 rows/),
        'Approve: capa-sync approve all-high --operator <you> --reason <why>',
      ]),
    );
    // An approver writes the plan's page on their own machine, from the store.
    const local = await cli('report', 'all-high', '--plan', '--json');
    const plan = JSON.parse(local.stdout);
    expect(plan.reports.html.startsWith(path.join(cliEnv.CAPA_DATA_DIR, 'plans', 'all-high'))).toBe(true);
    expect(plan.counts).toMatchObject({ update: RECORDS - RECORDS / 3, unchanged: RECORDS / 3 });
    expect(fs.readFileSync(plan.reports.html, 'utf8')).toContain('<h1>Plan all-high</h1>');
    // While it waits, a reviewer locks one record and sets another to High by hand: the write finds Vault changed.
    const [lockedId, editedId] = [sampleRecordId(1), sampleRecordId(2)];
    stack.sim.store.moveState(stack.sim.store.records.get(lockedId)!, 'under_review_state__c');
    stack.sim.store.editByHand(editedId, { priority__c: 'High' }, 'reviewer@example.com');
    const approved = await cli('approve', 'all-high', '--operator', 'qa.head', '--reason', 'risk board decision RB-12');
    expect(approved).toMatchObject({ stderr: '', code: 0, stdout: 'all-high: approved: the batch writes now\n' });
    const summary = await handle.result();
    expect(summary.counts).toMatchObject({
      updated: RECORDS - RECORDS / 3 - 2,
      unchanged: RECORDS / 3 + 1,
      waiting: 1,
    });
    // The report says where the write went otherwise than the plan the approver saw.
    const report = JSON.parse(fs.readFileSync(summary.reports.json, 'utf8'));
    expect(report.differencesFromPlan).toEqual({
      count: 2,
      rows: [
        { row: 2, recordId: lockedId, planned: 'update', outcome: 'waiting' },
        { row: 3, recordId: editedId, planned: 'update', outcome: 'unchanged' },
      ],
    });
    expect(vaultWrites()).toBe(writes + summary.counts.updated);
    const [decision] = await stack.ctx.store.audit.read({ batchId: 'all-high', kind: 'decision' });
    expect(decision).toMatchObject({
      decision: 'approve',
      actor: 'qa.head',
      reason: 'risk board decision RB-12',
      origin: { via: 'update', ...commandOrigin() },
    });
    expect(decision.recordId).toBeUndefined();
  });

  it('writes nothing of a rejected batch, whose rows say who rejected it and why', async () => {
    const writes = vaultWrites();
    const handle = await held('all-low', 'Low');
    const rejected = await cli('reject', 'all-low', '--operator', 'qa.head', '--reason', 'wrong export');
    expect(rejected).toMatchObject({ code: 0, stdout: 'all-low: rejected: nothing is written\n' });
    const summary = await handle.result();
    expect(summary.counts).toMatchObject({ updated: 0, failed: RECORDS });
    expect(vaultWrites()).toBe(writes);
    const [row] = await stack.ctx.store.batches.firstResults('all-low', ['failed'], 1);
    expect(row).toMatchObject({ errorType: 'BATCH_REJECTED', message: 'batch rejected by qa.head: wrong export' });
    expect(await cli('approve', 'all-low', '--operator', 'late', '--reason', 'x')).toMatchObject({
      code: 1,
      stderr: 'capa-sync: refused: batch all-low has ended (completed)\n',
    });
  });

  it("holds on what its pages' plans counted, added up, and on the plan's rows where a page counted nothing (planned by an earlier release)", async () => {
    const handle = await held('tallies', 'High');
    const { findings } = (await handle.query(progressQuery)).approval!;
    expect(findings).toEqual([expect.stringMatching(/^priority__c would be "High" on 1500 of the 1500 rows/)]);
    const tallies = await stack.ctx.store.batches.gateTallies('tallies');
    expect(tallies.map((t) => t?.fields.priority__c.values)).toEqual(Array(3).fill({ High: 500 }));
    const services = { logger: silentLogger, temporal: stack.env.client, store: stack.ctx.store };
    const { activities } = buildActivities(stack.ctx.config, { ...services, enqueueAlert: async () => undefined });
    const checkGate = () => new MockActivityEnvironment().run(activities.checkGate, { batchId: 'tallies' });
    const owner = testSql(stack.ctx.config.databaseUrl);
    const setPage1 = (tally: string) =>
      owner.query(`UPDATE batch_pages SET gate_tally = ${tally} WHERE batch_id = 'tallies' AND page = 1`);
    // The gate goes by what the pages counted: had page 1 counted other values, nothing would be unusual.
    await setPage1(`jsonb_set(gate_tally::jsonb, '{fields,priority__c,values}', '{"Low": 500}')::json`);
    expect(await checkGate()).toMatchObject({ findings: [] });
    await setPage1('NULL');
    expect(await checkGate()).toMatchObject({ findings });
    await cli('reject', 'tallies', '--operator', 'qa.head', '--reason', 'seen');
    expect((await handle.result()).counts).toMatchObject({ updated: 0, failed: RECORDS });
  });

  it('refuses an approval from whoever started the batch, and rejects a batch nobody decides in time', async () => {
    const { account, host } = commandOrigin();
    const writes = vaultWrites();
    const handle = await held('all-medium', 'Medium', `${account}@${host}`);
    const own = await cli('approve', 'all-medium', '--operator', 'me', '--reason', 'mine');
    expect(own).toMatchObject({
      code: 1,
      stderr: `capa-sync: refused: the approver must not be the one who started the batch (${account}@${host})\n`,
    });
    const summary = await handle.result(); // the time-out (60 s) rejects it
    expect(summary.counts).toMatchObject({ updated: 0, failed: RECORDS });
    expect(vaultWrites()).toBe(writes);
    const [decision] = await stack.ctx.store.audit.read({ batchId: 'all-medium', kind: 'decision' });
    expect(decision).toMatchObject({
      decision: 'reject',
      origin: { via: 'time-out' },
      reason: expect.stringMatching(/nobody approved/),
    });
    expect(stack.ctx.alerts.sent.map((a) => a.title)).toContain('capa-sync batch all-medium rejected: nothing written');
  }, 180_000);
});
