import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId } from '../src/simulator/seed';
import { DevStack, startDevStack } from './helpers/dev-stack';
import { writeCsv } from './helpers/exports';
import { waitFor } from './helpers/wait';

const CLI = path.join(__dirname, '../bin/capa-sync.js');
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let ctx: DevStack['ctx'];
let stack: DevStack;
let cliEnv: Record<string, string>;

/** Runs the CLI as its own process, as an operator would. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [CLI, ...args], {
      env: { ...process.env, ...cliEnv },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect([r.code, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  stack = await startDevStack({ records: 30, lockedFraction: 0.1, taskQueue: 'cli' });
  ({ env, sim, ctx } = stack);
  cliEnv = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'cli',
    VAULT_BASE_URL: sim.baseUrl,
    CAPA_DATA_DIR: ctx.config.dataDir,
    CAPA_DATABASE_URL: ctx.config.databaseUrl,
    LOG_LEVEL: 'error',
  };
});

afterAll(async () => {
  await stack?.stop();
});

it('runs a batch, lists waiting records, shows status, forces, cancels and reports', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => ({
    capa_id: sampleRecordId(i),
    priority: 'High',
    risk_score: 5,
    due_date: '2027-05-01',
  }));
  const summary = await json('run', '--source', writeCsv(rows), '--batch-id', 'cli-1');
  expect(summary).toMatchObject({ batchId: 'cli-1', inputRows: 30, counts: { waiting: 3 } });

  const waiting = await waitFor('visibility', async () => {
    const list = await json('list', '--state', 'waiting-for-unlock');
    return list.length === 3 ? list : undefined;
  });
  const [first, second] = waiting.map((w: { recordId: string }) => w.recordId).sort();
  // Right after the batch, a record workflow's first task may still be queued: status says so and succeeds later.
  const status = await waitFor('the status query', async () => {
    const r = await cli('status', first, '--json');
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  });
  expect(status).toMatchObject({
    recordId: first,
    state: 'waiting-for-unlock',
    desired: { priority__c: 'High' },
  });

  expect(await json('force', first, '--operator', 'qa.lead', '--reason', 'board approved')).toEqual({
    recordId: first,
    result: 'still locked: waiting',
  });
  // The review ends with a hand edit, so the workflow cannot apply on its own: only the operator's force writes.
  sim.store.editByHand(first, { priority__c: 'Low' }, 'reviewer@example.com');
  sim.store.moveState(sim.store.records.get(first)!, 'approved_state__c');
  expect(await json('force', first, '--operator', 'qa.lead', '--reason', 'board approved')).toEqual({
    recordId: first,
    result: 'applied',
  });
  expect(sim.store.records.get(first)!.fields.priority__c).toBe('High');
  const again = await cli('force', first, '--operator', 'qa.lead', '--reason', 'twice', '--json');
  expect(again).toMatchObject({ code: 1, stderr: `capa-sync: refused: record ${first} is already applied\n` });
  expect(await json('cancel', second, '--operator', 'qa.lead', '--reason', 'obsolete')).toEqual({
    recordId: second,
    result: 'cancelled',
  });

  const report = await json('report', 'cli-1');
  expect(report).toMatchObject({ batchId: 'cli-1', inputRows: 30, counts: summary.counts });
  expect(fs.existsSync(report.reports.failureCsv)).toBe(true);

  const human = await cli('report', 'cli-1');
  expect(human.stdout).toMatch(/waiting\s+3/);

  // From another machine (nothing of the worker's disk): the report and the audit trail come from the store.
  cliEnv.CAPA_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-auditor-'));
  const out = path.join(cliEnv.CAPA_DATA_DIR, 'for-qa');
  const waitingCsv = await waitFor('the record workflows to settle their rows', async () => {
    const r = await json('report', 'cli-1', '--out', out);
    const text = fs.readFileSync(r.reports.waitingCsv, 'utf8');
    return text.includes('cancelled') && text.includes('applied') ? text : undefined;
  });
  expect(waitingCsv.split('\r\n').filter(Boolean)).toHaveLength(1 + 3);
  expect(waitingCsv).toMatch(new RegExp(`${first},waiting,.*,applied\r\n`));
  expect(waitingCsv).toMatch(new RegExp(`${second},waiting,.*,cancelled\r\n`));
  const forced = await json('audit', '--record', first);
  expect(forced.map((e: { field: string }) => e.field).sort()).toEqual(['due_date__c', 'priority__c', 'risk_score__c']);
  expect(forced.find((e: { field: string }) => e.field === 'priority__c')).toMatchObject({
    oldValue: 'Low',
    newValue: 'High',
    actor: 'qa.lead',
    reason: 'board approved',
  });
  expect((await json('audit', '--batch', 'cli-1')).length).toBeGreaterThan(27);
  expect((await cli('audit', '--batch', 'cli-1')).stdout).toMatch(/seq\s+time\s+recordId\s+field\s+change/);
  const verify = await cli('audit', 'verify');
  expect(verify).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Audit trail intact: \d+ entries/) });
});

it('prints a large answer whole into a pipe before it exits', async () => {
  // 3,000 audit entries make about 1.5 MB of JSON: more than a pipe takes before the reader catches up.
  const entries = Array.from({ length: 3000 }, (_, i) => ({
    time: '2026-11-27T02:00:00.000Z',
    object: 'capa__c',
    recordId: sampleRecordId(i),
    field: 'priority__c',
    oldValue: 'Low',
    newValue: 'High',
    batchId: 'cli-big',
    actor: 'integration',
  }));
  await ctx.store.audit.append(entries, 'cli-big/page-0');
  expect((await json('audit', '--batch', 'cli-big')).length).toBe(3000);
});

it('answers bad usage and unknown things with one line and a documented exit code', async () => {
  const noReason = await cli('force', sampleRecordId(0), '--operator', 'qa.lead');
  expect(noReason).toMatchObject({ code: 2, stderr: 'capa-sync: --reason is required\n' });
  const unknown = await cli('status', 'NOPE1');
  expect(unknown).toMatchObject({ code: 3, stderr: 'capa-sync: NOPE1: not found\n' });
  expect((await cli('report', 'no-such-batch')).code).toBe(3);
  expect((await cli('frobnicate')).code).toBe(2);
  const badConfig = await promisify(execFile)('node', [CLI, 'list'], {
    env: { ...process.env, ...cliEnv, VAULT_BASE_URL: 'nope' },
  }).catch((e) => e);
  expect(badConfig).toMatchObject({ code: 2, stderr: expect.stringContaining('VAULT_BASE_URL: Invalid url') });
  expect(badConfig.stderr).not.toMatch(/\n\s+at /);
  const help = await cli('force', '--help');
  expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--operator <name>') });
  expect(help.stdout).toContain('--reason <text>');
  // Every subcommand has its own help, the simulator's too (it used to exit 1).
  const simulatorHelp = await cli('simulator', '--help');
  expect(simulatorHelp).toMatchObject({ code: 0, stdout: expect.stringContaining('--faults <json>') });
  expect(await cli('run', '--bogus')).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("unknown option '--bogus'"),
  });
});
