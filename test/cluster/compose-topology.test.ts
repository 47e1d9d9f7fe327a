import { ChildProcess, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { VaultSimulator } from '../../src/simulator/server';
import { sampleRecordId, sampleRecords } from '../../src/simulator/seed';
import { openStore, Store } from '../../src/store/store';
import { silentLogger } from '../../src/observability/logger';
import { batchWorkflowId } from '../../src/contracts/batch-messages';
import { recordWorkflowId } from '../../src/contracts/record-messages';
import { DEFAULT_SCHEDULE_ID } from '../../src/temporal/schedule';
import { listRecords } from '../../src/cli/operations';
import { waitFor } from '../helpers/wait';
import { sqlAs } from '../helpers/postgres';
import { ONE_VALUE_EXPORTS } from '../helpers/gate';
import type { BatchSummary } from '../../src/contracts/batch-messages';
import { writeCsv } from '../helpers/exports';
import { CLI, startWorkerProcess } from '../helpers/worker-process';
import { startTemporalCluster, TemporalCluster } from './temporal-cluster';

// docker-compose.yml's topology, run without Docker (see temporal-cluster.ts): two capa-sync workers from the
// compiled build, each with its own data folder and compose's worker environment, and the CLI from a third folder.

const ROOT = path.resolve(__dirname, '../..');
const RUNBOOK = fs.readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
const RECORDS = 4_000;
const run = promisify(execFile);

let cluster: TemporalCluster;
let sim: VaultSimulator;
let client: Client;
let store: Store;
let env: Record<string, string>;
/** The last night's result, as Temporal keeps it: with the audit head signed at its end. */
let lastNight: BatchSummary;
const workers: ChildProcess[] = [];
const folder = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `capa-cluster-${name}-`));
const cliDir = folder('cli');
/** The replicas' own folders (where each finish step writes the report of the batches it finished). */
const workersDir = folder('workers');

/** compose's capa-sync-worker environment, pointed at this machine's addresses and files. */
function workerEnvironment(): Record<string, string> {
  const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
  const composed = compose.services['capa-sync-worker'].environment as Record<string, string>;
  const passwordFile = path.join(cliDir, 'capa_db_password');
  fs.writeFileSync(passwordFile, 'capa-db-password\n');
  const { METRICS_PORT: _metrics, CAPA_DATA_DIR: _data, ...shared } = composed; // each process has its own
  const database = new URL(cluster.databaseUrl);
  database.password = '';
  return {
    ...shared,
    ...cluster.clientEnv,
    VAULT_BASE_URL: sim.baseUrl,
    VAULT_PASSWORD_FILE: path.join(ROOT, compose.secrets.vault_password.file),
    CAPA_DATABASE_URL: database.toString(),
    CAPA_DATABASE_PASSWORD_FILE: passwordFile,
    CAPA_AUDIT_SIGNING_KEY_FILE: path.join(ROOT, compose.secrets.capa_audit_signing_key.file),
    CAPA_SYNC_DIST: '1',
    CAPA_TICK_SECONDS: '5',
    ...ONE_VALUE_EXPORTS,
    CAPA_PAGE_SIZE: '1000',
    LOG_LEVEL: 'info',
  };
}

/** compose's capa-sync-migrate service: the compiled CLI's `db migrate`, with the owner's password from a file. */
async function migrateAsOwner(): Promise<string> {
  const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
  const composed = compose.services['capa-sync-migrate'].environment as Record<string, string>;
  const passwordFile = path.join(cliDir, 'capa_db_owner_password');
  fs.writeFileSync(passwordFile, `${new URL(cluster.ownerUrl).password}\n`);
  const owner = new URL(cluster.ownerUrl);
  expect(owner.username).toBe(new URL(composed.CAPA_DATABASE_OWNER_URL).username);
  owner.password = '';
  const { stdout } = await run('node', [CLI, ...compose.services['capa-sync-migrate'].command], {
    cwd: cliDir,
    env: {
      ...process.env,
      ...env,
      CAPA_DATABASE_OWNER_URL: owner.toString(),
      CAPA_DATABASE_OWNER_PASSWORD_FILE: passwordFile,
    },
  });
  return stdout;
}

/** A worker replica: the compiled worker with its memory settings and a data folder of its own. */
async function startWorker(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(workersDir, 'worker-'));
  workers.push((await startWorkerProcess({ ...env, CAPA_DATA_DIR: dataDir })).child);
}

/** The compiled CLI, from its own folder: an operator's or auditor's machine, with the public key only. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { CAPA_AUDIT_SIGNING_KEY_FILE: key, ...operator } = env;
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], {
      cwd: cliDir,
      env: {
        ...process.env,
        ...operator,
        CAPA_AUDIT_PUBLIC_KEY_FILE: key.replace(/\.pem$/, '.pub.pem'),
        CAPA_DATA_DIR: path.join(cliDir, '.data'),
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const count = async (query: string) =>
  Number(/\d+/.exec(await cluster.temporal(['workflow', 'count', '--query', query]))![0]);
const rows = (n: number, values: Record<string, string | number>) =>
  Array.from({ length: n }, (_, i) => ({ capa_id: sampleRecordId(i), ...values }));
/** An export of the first n records with these values (a file every worker on this machine can read). */
const exportOf = (n: number, values: Record<string, string | number>) =>
  writeCsv(rows(n, values), ['capa_id', ...Object.keys(values)]);
const locked = () => [...sim.store.records.values()].filter((r) => sim.store.isLocked(r)).map((r) => r.id);

beforeAll(async () => {
  cluster = await startTemporalCluster();
  sim = new VaultSimulator({ faults: { latencyMs: 1_000 } });
  await sim.start();
  sim.store.seed(sampleRecords({ count: RECORDS, lockedFraction: 0.1 }));
  env = workerEnvironment();
  const config = loadConfig(env);
  expect(await migrateAsOwner()).toMatch(/schema went from version 0 to \d+; capa_sync granted/);
  client = await connectClient(config.temporal);
  store = await openStore(config.databaseUrl, silentLogger);
  await Promise.all([startWorker(), startWorker()]);
});

afterAll(async () => {
  workers.forEach((w) => w.kill('SIGKILL'));
  await client?.connection.close();
  await store?.close();
  await sim?.stop();
  await cluster?.stop();
});

it('carries a batch with locked records when the worker applying a page is SIGKILLed', async () => {
  const source = exportOf(RECORDS, { priority: 'High', risk_score: 42 });
  const holding = (id: string) => {
    const { fields } = sim.store.records.get(id)!;
    return fields.priority__c === 'High' && fields.risk_score__c === 42;
  };
  const unchanged = rows(RECORDS, {}).filter((r) => !locked().includes(r.capa_id) && holding(r.capa_id)).length;
  const started = await cli('run', '--source', source, '--batch-id', 'night-1', '--detach');
  expect(started).toMatchObject({ code: 0, stdout: expect.stringContaining('Started batch night-1') });
  const handle = client.workflow.getHandle(batchWorkflowId('capa__c', 'night-1'));
  const page = await waitFor('a page being applied', async () =>
    ((await handle.describe()).raw.pendingActivities ?? []).find(
      (a) => a.activityType?.name === 'applyPage' && a.lastWorkerIdentity,
    ),
  );
  workers.find((w) => page.lastWorkerIdentity!.startsWith(`${w.pid}@`))!.kill('SIGKILL');
  const summary = await handle.result();
  expect(summary.counts).toMatchObject({
    updated: RECORDS * 0.9 - unchanged,
    unchanged,
    waiting: RECORDS * 0.1,
    failed: 0,
    rejected: 0,
  });
  // Every unlocked record holds the values, Vault took each once, and the audit has one entry per value taken.
  const unlocked = rows(RECORDS, {}).filter((r) => !locked().includes(r.capa_id));
  expect(unlocked.filter((r) => !holding(r.capa_id))).toEqual([]);
  const writes = sim.store.audit
    .filter((a) => a.user === 'sync.user@example.com')
    .map((a) => `${a.recordId}/${a.field}`);
  expect(new Set(writes).size).toBe(writes.length);
  const audited = (await store.audit.writes({ batchId: 'night-1' })).map((e) => `${e.recordId}/${e.field}`);
  expect(audited.sort()).toEqual([...writes].sort());
  await startWorker(); // compose's replica count again
});

it('answers every visibility query of the runbook (docs/operations.md)', async () => {
  const runbook = /\*\*Find waiting records\.\*\*[\s\S]*?```\n([\s\S]*?)```/.exec(RUNBOOK)![1].trim().split('\n');
  const [waitingId, otherId] = locked();
  const expected: Record<string, number> = {
    'CapaSyncState = "waiting-for-unlock"': RECORDS * 0.1,
    'CapaSyncState = "needs-decision"': 0,
    [`CapaRecordId = "${waitingId}"`]: 1,
    'CapaBatchId = "night-1" AND CapaSyncState != "applied"': RECORDS * 0.1,
  };
  const queries = runbook.map((q) =>
    q.replace(/"V7T\d+"/, `"${waitingId}"`).replace(/CapaBatchId = "[^"]+"/, 'CapaBatchId = "night-1"'),
  );
  expect(queries.sort()).toEqual(Object.keys(expected).sort());
  for (const q of queries) expect([q, await count(q)]).toEqual([q, expected[q]]);
  // The one the runbook gives for the temporal CLI, as it is written there.
  const listed = /`temporal workflow list --query '(.*?)'`/.exec(RUNBOOK)![1];
  sim.store.editByHand(otherId, { priority__c: 'Low' }, 'reviewer@example.com');
  sim.store.moveState(sim.store.records.get(otherId)!, 'approved_state__c');
  await waitFor('a record in needs-decision', async () => (await count(listed)) === 1, 60_000, 1_000);
});

it('takes force and cancel from the temporal CLI, with the commands the runbook shows', async () => {
  const decide = /\*\*Decide\.\*\*[\s\S]*?```bash\n([\s\S]*?)```/.exec(RUNBOOK)![1];
  const commands = decide
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .filter((l) => l.startsWith('temporal '));
  expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
    'temporal workflow update',
    'temporal workflow signal',
  ]);
  const argv = (command: string, recordId: string) =>
    [...command.matchAll(/'([^']*)'|(\S+)/g)]
      .map((m) => m[1] ?? m[2])
      .slice(1)
      .map((a) => a.replace(/capa-sync:capa__c:V7T\d+/, recordWorkflowId('capa__c', recordId)));
  const forcedId = (await listRecords(client, loadConfig(env), { phase: 'needs-decision' }))[0].recordId;
  expect(await cluster.temporal(argv(commands[0], forcedId))).toMatch(/applied/);
  expect(sim.store.records.get(forcedId)!.fields.priority__c).toBe('High');

  const cancelledId = locked().find((id) => sim.store.records.get(id)!.fields.priority__c !== 'High')!;
  await cluster.temporal(argv(commands[1], cancelledId));
  await client.workflow.getHandle(recordWorkflowId('capa__c', cancelledId)).result();
  const status = await cli('report', 'night-1', '--json');
  expect(status.code).toBe(0);
  expect(sim.store.records.get(cancelledId)!.fields.priority__c).not.toBe('High');
});

it("writes the report and verifies the audit trail from the CLI's own folder", async () => {
  const out = path.join(cliDir, 'night-1');
  const report = await cli('report', 'night-1', '--out', out);
  expect(report.code).toBe(0);
  const json = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
  expect(json.counts.updated + json.counts.unchanged).toBe(RECORDS * 0.9);
  expect(json.counts.waiting).toBe(RECORDS * 0.1);
  for (const f of ['success.csv', 'waiting.csv', 'failure.csv']) expect(fs.existsSync(path.join(out, f))).toBe(true);
  const verified = await cli('audit', 'verify');
  expect(verified).toMatchObject({ code: 0, stdout: expect.stringContaining('Audit trail intact') });
});

it('applies the waiting records after a kill -9 and restart of the Temporal server', async () => {
  const waiting = locked();
  await cluster.killAndRestartServer();
  for (const id of waiting) sim.store.moveState(sim.store.records.get(id)!, 'approved_state__c');
  await waitFor(
    'every waiting record to be applied',
    async () => (await count('WorkflowType = "capaRecordWorkflow" AND ExecutionStatus = "Running"')) === 0,
    180_000,
    2_000,
  );
  const cancelled = (await listRecords(client, loadConfig(env), { phase: 'cancelled' })).map((r) => r.recordId);
  expect(cancelled).toHaveLength(1);
  expect(waiting.filter((id) => sim.store.records.get(id)!.fields.priority__c !== 'High')).toEqual(cancelled);
});

it('runs a batch when the nightly Schedule is triggered', async () => {
  const source = exportOf(500, { priority: 'Low', risk_score: 7 });
  expect((await cli('schedule', 'create', '--source', source)).code).toBe(0);
  expect((await cli('schedule', 'trigger')).code).toBe(0);
  const action = await waitFor('the scheduled batch to start', async () => {
    const d = await client.schedule.getHandle(DEFAULT_SCHEDULE_ID).describe();
    return d.info.recentActions[0]?.action.workflow.workflowId;
  });
  const summary = await client.workflow.getHandle(action).result();
  lastNight = summary;
  expect(summary.counts).toMatchObject({ updated: 500, failed: 0, waiting: 0 });
  expect(rows(500, {}).filter((r) => sim.store.records.get(r.capa_id)!.fields.priority__c !== 'Low')).toEqual([]);
  expect((await cli('audit', 'verify')).code).toBe(0);
});

it("refuses the workers' login any change to the trail, and names what the owner's changed", async () => {
  const entries = Number(/intact: (\d+) entries/.exec((await cli('audit', 'verify')).stdout)![1]);
  const workersLogin = sqlAs(cluster.databaseUrl);
  for (const statement of [
    'ALTER TABLE audit_entries DISABLE TRIGGER USER',
    'DELETE FROM audit_entries WHERE seq > 1',
    'TRUNCATE audit_entries',
    'DELETE FROM audit_anchors',
  ])
    await expect(workersLogin.query(statement)).rejects.toThrow(/permission denied|must be owner/);

  // The owner's login, as in the report: the tail cut behind the trigger, and every copy of the heads in the store.
  const owner = sqlAs(cluster.ownerUrl);
  await owner.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
  await owner.query('DELETE FROM audit_entries WHERE seq > (SELECT max(seq) - 500 FROM audit_entries)');
  await owner.query('DELETE FROM audit_anchors');
  await owner.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
  // The chain that is left links up: only a head signed outside the database shows the cut.
  expect((await cli('audit', 'verify')).stdout).toContain(`Audit trail intact: ${entries - 500} entries`);
  // The last night's result from Temporal, and the report.json files the replicas wrote.
  const anchorFile = path.join(cliDir, 'last-night.json');
  fs.writeFileSync(anchorFile, JSON.stringify(lastNight));
  for (const given of [
    ['--anchor', anchorFile],
    ['--reports', workersDir],
  ]) {
    const verified = await cli('audit', 'verify', ...given);
    expect([verified.code, verified.stdout]).toEqual([
      1,
      expect.stringMatching(/the head signed .* is gone: the trail was cut/),
    ]);
  }
});
