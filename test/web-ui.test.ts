import type { Browser } from 'playwright-core';
import { launchChromium, waitForText } from './helpers/browser';
import { listRecords, startBatch } from '../src/cli/operations';
import { sampleRecordId } from '../src/simulator/seed';
import { cancelUpdate, recordWorkflowId } from '../src/contracts/record-messages';
import { batchWorkflowId } from '../src/contracts/batch-messages';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { freePort } from '../src/temporal/dev-server';
import { waitFor } from './helpers/wait';

let stack: DevStack;
let browser: Browser;
let uiUrl: string;

beforeAll(async () => {
  const uiPort = await freePort();
  uiUrl = `http://127.0.0.1:${uiPort}`;
  const settings = { CAPA_TICK_SECONDS: '2' }; // a reviewer's approval is seen within seconds
  stack = await startDevStack({ records: 20, lockedFraction: 0.2, taskQueue: 'web-ui', uiPort, settings });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it('lets an operator find the waiting record workflows in the Web UI by their CapaSyncState', async () => {
  const { env, ctx } = stack;
  const rows = Array.from({ length: 20 }, (_, i) => ({
    capa_id: sampleRecordId(i),
    priority: 'High',
    risk_score: 5,
    due_date: '2027-05-01',
  }));
  const summary = await (
    await startBatch(env.client, ctx.config, { source: writeCsv(rows), batchId: 'ui-1' })
  ).result();
  expect(summary.counts).toMatchObject({ updated: 16, waiting: 4 });

  const waiting = await waitFor('four waiting records in visibility', async () => {
    const list = await listRecords(env.client, ctx.config, { phase: 'waiting-for-unlock' });
    return list.length === 4 ? list.map((r) => r.workflowId).sort() : undefined;
  });
  // One of them is cancelled by an operator: it must drop out of the waiting list.
  const [cancelled, ...stillWaiting] = waiting;
  await env.client.workflow
    .getHandle(cancelled)
    .executeUpdate(cancelUpdate, { args: [{ operator: 'qa.lead', reason: 'obsolete' }] });

  const page = await browser.newPage();
  const query = (state: string) =>
    `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`CapaSyncState="${state}"`)}`;
  for (const workflowId of stillWaiting) await waitForText(page, query('waiting-for-unlock'), workflowId);
  await waitForText(page, query('cancelled'), cancelled);
  await page.goto(query('waiting-for-unlock'));
  await page.getByText(stillWaiting[0], { exact: true }).first().waitFor();
  expect(await page.getByText(cancelled, { exact: true }).count()).toBe(0);
  // Records written in bulk have no workflow of their own.
  expect(await page.getByText(recordWorkflowId('capa__c', sampleRecordId(0)), { exact: true }).count()).toBe(0);

  // The operator opens a waiting record: its Search Attributes tab shows its state and record id.
  await page.getByText(stillWaiting[0], { exact: true }).first().click();
  await page.waitForURL(`**/workflows/${encodeURIComponent(stillWaiting[0])}/**`);
  await page.getByText('Search Attributes', { exact: true }).first().click();
  const recordId = stillWaiting[0].split(':').pop()!;
  const shown = await waitFor('the search attributes', async () => {
    const text = await page.locator('main').innerText();
    return text.includes('"CapaSyncState"') ? text : undefined;
  });
  expect(shown).toContain('"CapaSyncState": "waiting-for-unlock"');
  expect(shown).toContain(`"CapaRecordId": "${recordId}"`);
  expect(shown).toContain('"CapaBatchId": "ui-1"');
}, 180_000);

it('explains each record in its summary and current details, and each batch and page in theirs', async () => {
  const { env, sim } = stack;
  const [waiting, conflicted] = (await listRecords(env.client, stack.ctx.config, { phase: 'waiting-for-unlock' }))
    .map((r) => r.recordId)
    .sort();
  // A reviewer changes the priority during the review, then approves: the record needs a decision.
  const before = sim.store.records.get(conflicted)!.fields.priority__c;
  const edited = ['Low', 'Medium'].find((p) => p !== before)!;
  sim.store.editByHand(conflicted, { priority__c: edited }, 'reviewer@example.com');
  sim.store.moveState(sim.store.records.get(conflicted)!, 'approved_state__c');
  await waitFor('the conflict', async () =>
    (await listRecords(env.client, stack.ctx.config, { phase: 'needs-decision' })).some(
      (r) => r.recordId === conflicted,
    ),
  );

  const page = await browser.newPage();
  /**
   * A workflow's User Metadata tab, once its summary (a frame of its own) shows `summary` and its current details
   * (another) match `details`: the text of both.
   */
  const metadata = async (workflowId: string, summary: string, details: RegExp) => {
    const url = `${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;
    return waitFor(`${details} on ${url}`, async () => {
      await page.goto(url);
      await page.waitForURL(/\/[0-9a-f-]{36}\/[a-z-]+$/); // the UI opens the latest run
      await page.getByText('User Metadata', { exact: true }).first().click();
      const frame = (id: string) =>
        page
          .frameLocator(`#${id}`)
          .locator('body')
          .innerText({ timeout: 5_000 })
          .catch(() => '');
      const [shownSummary, shownDetails] = [
        await frame('user-metadata-summary'),
        await frame('user-metadata-current-details'),
      ];
      return shownSummary.includes(summary) && details.test(shownDetails) ? shownDetails : undefined;
    });
  };
  const waitingDetails = await metadata(
    recordWorkflowId('capa__c', waiting),
    `CAPA ${waiting} · batch ui-1 · writes priority__c = "High", risk_score__c = 5, due_date__c = "2027-05-01"`,
    /waiting-for-unlock · Vault state (under_review|pending_approval)_state__c/,
  );
  expect(waitingDetails).toMatch(/Read by the lock watcher on its ticks; own check \d{4}-\d\d-\d\dT/);

  const decision = await metadata(recordWorkflowId('capa__c', conflicted), `CAPA ${conflicted}`, /needs-decision/);
  expect(decision).toMatch(/needs-decision · Vault state approved_state__c/);
  expect(decision).toContain('Changed by hand during the lock');
  // Each changed field: its baseline, what Vault holds now, and the desired value.
  expect(decision).toMatch(new RegExp(`priority__c\\s+"${before}"\\s+"${edited}"\\s+"High"`));
  expect(decision).toContain(`capa-sync force ${conflicted} --operator NAME --reason TEXT`);
  expect(decision).toContain(`capa-sync cancel ${conflicted} --operator NAME --reason TEXT`);

  await metadata(
    batchWorkflowId('capa__c', 'ui-1'),
    'capa-sync batch ui-1 from /',
    /done · 20 rows in 1 pages, 1 applied, 1 handed off · 16 updated, 4 waiting/,
  );
  await page.getByText('Timeline', { exact: true }).first().click();
  // Each page's activities carry their summary in the timeline.
  await page.getByText('page 1 of 1: read states, write the unlocked records').first().waitFor();
  await page.getByText('page 1 of 1: hand the locked records to their workflows').first().waitFor();
}, 180_000);
