import { operatorEnv, runCli } from './helpers/cli';
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
import { startRecordWorkflow, testWorker } from './helpers/record-env';
import { Worker } from '@temporalio/worker';
import { CAPA_LOCKED_STATES } from '../src/vault/dialect';
import { defaultKeyFiles } from '../src/audit/signing-key';

import { CLI } from './helpers/worker-process';
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let ctx: DevStack['ctx'];
let stack: DevStack;
let cliEnv: Record<string, string>;

const cli = (...args: string[]) => cliWith({}, ...args);
const cliWith = (settings: Record<string, string>, ...args: string[]) => runCli({ ...cliEnv, ...settings }, args);
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect([r.code, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  stack = await startDevStack({ records: 30, lockedFraction: 0.1, taskQueue: 'cli' });
  ({ env, sim, ctx } = stack);
  cliEnv = {
    ...operatorEnv(stack, 'cli'),
    VAULT_BASE_URL: sim.baseUrl,
    CAPA_DECISION_WAIT_SECONDS: '4',
    // An auditor holds the workers' public key, not their private one.
    CAPA_AUDIT_PUBLIC_KEY_FILE: defaultKeyFiles(ctx.config.dataDir).publicKey,
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
  // The report files it names are on this machine, written from the store.
  const local = Object.values(summary.reports as Record<string, string>);
  expect(local.filter((f) => !f.startsWith(path.join(cliEnv.CAPA_DATA_DIR, 'reports', 'cli-1')))).toEqual([]);
  expect(local.filter((f) => !fs.existsSync(f))).toEqual([]);

  const waiting = await waitFor('visibility', async () => {
    const list = await json('list', '--phase', 'waiting-for-unlock');
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
    phase: 'waiting-for-unlock',
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
  expect(waitingCsv).toMatch(new RegExp(`${second},waiting,.*,cancelled by qa.lead: obsolete\r\n`));
  const forced = await json('audit', '--record', first);
  const writes = forced.filter((e: { kind: string }) => e.kind === 'write');
  expect(writes.map((e: { field: string }) => e.field).sort()).toEqual(['due_date__c', 'priority__c', 'risk_score__c']);
  expect(writes.find((e: { field: string }) => e.field === 'priority__c')).toMatchObject({
    oldValue: 'Low',
    newValue: 'High',
    actor: 'qa.lead',
    reason: 'board approved',
  });
  // Both forces are decisions in the trail, the one Vault refused as still locked too, with where they came from.
  const decisions = forced.filter((e: { kind: string }) => e.kind === 'decision');
  const origin = { via: 'update', account: os.userInfo().username, host: os.hostname() };
  expect(decisions).toEqual([
    expect.objectContaining({
      decision: 'force',
      outcome: 'still locked: waiting',
      actor: 'qa.lead',
      origin: expect.objectContaining(origin),
    }),
    expect.objectContaining({ decision: 'force', outcome: 'applied', reason: 'board approved' }),
  ]);
  expect(decisions[0].origin.client).toMatch(new RegExp(`^capa-sync ${origin.account}@${origin.host} pid \\d+$`));
  expect((await json('audit', '--batch', 'cli-1')).length).toBeGreaterThan(27);
  expect((await cli('audit', '--record', first)).stdout).toMatch(
    /seq\s+time\s+recordId\s+what\s+who\s+batchId\n[\s\S]*force \(still locked: waiting\) of .*qa\.lead \(board approved\) from \S+@\S+ via capa-sync/,
  );
  const verify = await cli('audit', 'verify');
  expect(verify).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(/^Audit trail intact: \d+ entries, hash chain verified; signed heads checked: [1-9]/),
  });
});

it("keeps a cancel's who, why and where in the trail after Temporal has deleted the workflow's history", async () => {
  const recordId = sampleRecordId(1, 'DEL');
  sim.store.seed([{ id: recordId, state__v: CAPA_LOCKED_STATES[0], fields: { priority__c: 'Low' } }]);
  const handle = await startRecordWorkflow(env, 'cli', {
    recordId,
    desired: { priority__c: 'High' },
    baseline: { priority__c: 'Low' },
  });
  expect(await json('cancel', recordId, '--operator', 'qa.lead', '--reason', 'superseded by CAPA-77')).toEqual({
    recordId,
    result: 'cancelled',
  });
  await handle.result();
  // As retention does: the history is gone.
  await env.client.workflowService.deleteWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId: handle.workflowId },
  });
  await waitFor(
    'the history to be deleted',
    async () => (await handle.describe().catch(() => undefined)) === undefined,
  );
  const [entry] = await json('audit', '--record', recordId);
  expect(entry).toMatchObject({
    kind: 'decision',
    decision: 'cancel',
    outcome: 'cancelled',
    actor: 'qa.lead',
    reason: 'superseded by CAPA-77',
    values: { priority__c: 'High' },
    workflowId: handle.workflowId,
    origin: { via: 'update', account: os.userInfo().username, host: os.hostname() },
  });
});

it('exports a day of the trail for an auditor with the signed heads that cover it, which verify checks', async () => {
  const day = new Date().toISOString().slice(0, 10);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-export-')), 'audit.csv');
  const done = await json('audit', 'export', '--from', day, '--to', day, '--out', out);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\r\n');
  expect(lines[0]).toBe(
    'seq,time,kind,object,record_id,field,old_value,new_value,decision,outcome,actor,reason,origin,batch_id,workflow_id,write_id,source_timestamp,prev_hash,hash,hash_version,hashed_content',
  );
  expect(lines.length - 1).toBe(done.entries);
  expect(lines.filter((l) => /,decision,capa__c,/.test(l)).length).toBeGreaterThan(1);
  expect(lines.filter((l) => l.includes(',cancel,cancelled,qa.lead,superseded by CAPA-77,'))).toHaveLength(1);
  const anchors = JSON.parse(fs.readFileSync(`${out}.anchors.json`, 'utf8'));
  expect(anchors).toHaveLength(done.anchors);
  expect(done.anchors).toBeGreaterThan(0);
  const newest = JSON.stringify(anchors[anchors.length - 1]);
  expect((await cli('audit', 'verify', '--anchor', newest)).code).toBe(0);
  // The same head with another hash is no longer what was signed: refused.
  const altered = JSON.stringify({ ...anchors[anchors.length - 1], hash: '0'.repeat(64) });
  const refused = await cli('audit', 'verify', '--anchor', altered);
  expect([refused.code, refused.stdout]).toEqual([1, expect.stringContaining('signature does not verify')]);
  const nonsense = await cli('audit', 'verify', '--anchor', '{"seq": "x"}');
  expect(nonsense).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--anchor: the anchor given: not an audit anchor'),
  });
});

it('makes an audit signing key pair, and never overwrites one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-keys-'));
  const made = await json('audit', 'keygen', '--out', dir);
  expect(fs.statSync(made.privateKey).mode & 0o777).toBe(0o600);
  const key = fs.readFileSync(made.privateKey, 'utf8');
  expect(key).toContain('BEGIN PRIVATE KEY');
  expect(await cli('audit', 'keygen', '--out', dir)).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('exists already'),
  });
  expect(fs.readFileSync(made.privateKey, 'utf8')).toBe(key);
});

it('waits out a failing workflow task, then says plainly whether the decision took effect', async () => {
  // A locked record of its own, in no batch.
  const recordId = sampleRecordId(0, 'BRK');
  sim.store.seed([{ id: recordId, state__v: CAPA_LOCKED_STATES[0], fields: { priority__c: 'Low' } }]);
  const broken = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'cli-broken',
    workflowsPath: require.resolve('./fixtures/workflows/failing-record-workflow'),
  });
  const running = broken.run();
  const handle = await startRecordWorkflow(env, 'cli-broken', {
    recordId,
    desired: { priority__c: 'High' },
    baseline: { priority__c: 'Low' },
  });
  await waitFor(
    'the workflow task to fail',
    async () => ((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) > 1,
  );
  const refused = await cli('force', recordId, '--operator', 'qa.lead', '--reason', 'x');
  expect(refused.code).toBe(1);
  expect(refused.stderr.trim().split('\n')).toEqual([
    "capa-sync: the record's workflow task is failing; waiting for it to pass (at most 4 s)...",
    `capa-sync: the force did not reach record ${recordId}'s workflow within 4 s (the record's workflow task is failing): it did not take effect; try again once the workflow runs (see it in the Web UI)`,
  ]);
  // The bug is rolled back while an operator waits (once the CLI says so): the same command then goes through.
  let said = '';
  const waiting = runCli(
    { ...cliEnv, CAPA_DECISION_WAIT_SECONDS: '60' },
    ['cancel', recordId, '--operator', 'qa.lead', '--reason', 'obsolete', '--json'],
    (text) => (said += text),
  );
  await waitFor('the operator told to wait', async () => said.includes('waiting for it to pass'));
  broken.shutdown();
  await running;
  const fixed = await testWorker(env, sim, 'cli-broken');
  await fixed.worker.runUntil(async () => {
    const done = await waiting;
    expect([done.code, JSON.parse(done.stdout)]).toEqual([0, { recordId, result: 'cancelled' }]);
    expect(done.stderr).toBe(
      "capa-sync: the record's workflow task is failing; waiting for it to pass (at most 60 s)...\n",
    );
  });
}, 120_000);

it('prints a large answer whole into a pipe before it exits', async () => {
  // 3,000 audit entries make about 1.5 MB of JSON: more than a pipe takes before the reader catches up.
  const entries = Array.from({ length: 3000 }, (_, i) => ({
    kind: 'write' as const,
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
  // An unknown command is bad usage with or without --help (commander printed the top-level help, exit 0).
  expect(await cli('plans', '--help')).toMatchObject({
    code: 2,
    stdout: '',
    stderr: "capa-sync: unknown command 'plans' (see capa-sync --help)\n",
  });
  // A reader that has gone away ends the output quietly (an EPIPE stack, exit 1, before).
  const stderrFile = path.join(cliEnv.CAPA_DATA_DIR, 'closed-pipe.err');
  const closed = await promisify(execFile)('bash', [
    '-c',
    `node ${CLI} audit --help 2>${stderrFile} | true; echo "exit \${PIPESTATUS[0]}"`,
  ]);
  expect([closed.stdout, fs.readFileSync(stderrFile, 'utf8')]).toEqual(['exit 0\n', '']);
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
