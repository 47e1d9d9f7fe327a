/**
 * The chaos harness: `npm run chaos [-- --records 10000 --seed 1 --kills 3 --restarts 1 --dialect customer --workers 2]`.
 *
 * Runs capa-sync as in production, on its own dev server, simulator and worker processes (free ports), with Vault
 * faulting about one call in seven, reviewers approving the locked records over minutes (editing a few by hand),
 * two overlapping batches (the second hands off while the first's record workflows apply), the worker SIGKILLed
 * at different phases (one of them, where several run) and the dev server restarted. It then holds the simulator's write log and final state
 * against what the inputs asked for, prints the counts and exits non-zero unless every one is 0.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, ServiceError } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { freePort, startDevServer } from '../src/temporal/dev-server';
import { startBatch } from '../src/cli/operations';
import { FaultConfig, seededRandom } from '../src/simulator/faults';
import { REVIEWER, scheduleReviews } from '../src/simulator/reviewers';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { DEFAULT_USERNAME } from '../src/simulator/default-login';
import { VaultSimulator } from '../src/simulator/server';
import { migratedDatabase, startThrowawayPostgres } from '../test/helpers/throwaway-postgres';
import { openStore, Store } from '../src/store/store';
import { silentLogger } from '../src/observability/logger';
import { FieldValues, sameFieldValue } from '../src/contracts/field-values';
import { BatchProgress, progressQuery } from '../src/contracts/batch-messages';
import { statusQuery } from '../src/contracts/record-messages';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../src/temporal/worker-memory';
import { workflowResult } from '../src/temporal/workflow-result';

export interface ChaosOptions {
  records: number;
  seed: number;
  kills: number;
  restarts: number;
  /** Restarts of the store's PostgreSQL server (while night 1 applies pages). */
  dbRestarts: number;
  /** Reviewers approve every locked record within this many seconds of the first batch's end. */
  reviewSeconds: number;
  /** Give up on a record that is still waiting this long after the last approval. */
  settleSeconds: number;
  /** The fraction of locked records a reviewer edits by hand before approving. */
  editFraction?: number;
  /** The fraction of locked records a reviewer edits by hand seconds after capa-sync first read them unlocked. */
  lateEditFraction?: number;
  /** The Vault dialect the simulator speaks and the workers are set for (the customer's has a lock endpoint). */
  dialect?: 'documented' | 'customer';
  /** Worker processes on the task queue, each kept running by its supervisor. */
  workers?: number;
  log?: (line: string) => void;
}

/** About one Vault call in seven fails in one of these ways (rates per call; race conditions per record). */
export const CHAOS_FAULTS: Partial<FaultConfig> = {
  serverErrorRate: 0.03,
  hangRate: 0.01,
  hangMs: 8_000,
  lostAnswerRate: 0.04,
  malformedRate: 0.02,
  tooManyRequestsRate: 0.02,
  retryAfterSeconds: 1,
  exceptionRate: 0.02,
  raceConditionRate: 0.01,
  sessionExpiryEveryCalls: 40,
  spikeRate: 0.02,
  spikeMs: 2_000,
};

const CLI = path.join(__dirname, '../bin/capa-sync.js');
const TASK_QUEUE = 'chaos';
const PRIORITIES = ['High', 'Medium', 'Low'];
const LOCKED_FRACTION = 0.05;
/** Night 2 starts this long after reviews begin, and most of its locked records are approved during its run. */
const NIGHT_2_AFTER_MS = 5_000;
const NIGHT_2_RUSH_MS = 10_000;
/** A reviewer's risk score (or 99.5 where the record already holds it): no export asks for either. */
const REVIEWER_SCORE = 100;
/** A late edit comes this long after capa-sync first read the record unlocked (the chaos run that found the hole: 5 s). */
const LATE_EDIT_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Batch 1 asks every record for new values; batch 2, a newer night, asks about 6% of them again. */
const batch1Values = (i: number): FieldValues => ({
  priority__c: PRIORITIES[(i + 1) % 3],
  risk_score__c: (i * 3) % 100,
  due_date__c: '2027-05-31',
});
const batch2Values = (i: number): FieldValues => ({
  priority__c: PRIORITIES[(i + 2) % 3],
  risk_score__c: (i * 7 + 1) % 100,
  due_date__c: '2027-06-30',
});
/** Half of the locked records (every 20th) and every 27th record otherwise. */
const inBatch2 = (i: number) => (i % 20 === 19 && i % 40 === 39) || i % 27 === 0;

function writeExport(dir: string, name: string, rows: Array<[number, FieldValues]>): string {
  const file = path.join(dir, name);
  const lines = ['capa_id,priority,risk_score,due_date'];
  for (const [i, v] of rows) lines.push(`${sampleRecordId(i)},${v.priority__c},${v.risk_score__c},${v.due_date__c}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Keeps one worker process running, as a service manager would: a killed worker is started again. */
class WorkerSupervisor {
  private child?: ChildProcess;
  private starts = 0;
  private stopping = false;

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly name: string,
  ) {}

  start(): void {
    const log = fs.openSync(path.join(this.logDir, `${this.name}-${++this.starts}.log`), 'w');
    const child = spawn('node', [...WORKER_NODE_ARGS, CLI, 'worker'], {
      env: { ...process.env, ...WORKER_ENV, ...this.env },
      stdio: ['ignore', log, log],
    });
    this.child = child;
    child.once('exit', () => {
      fs.closeSync(log);
      // Started again a second later, unless the run is stopping by then.
      if (!this.stopping && this.child === child) setTimeout(() => this.stopping || this.start(), 1000);
    });
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
  }
}

export interface ChaosCounts {
  rowsLost: number;
  staleWrites: number;
  writesWhileLocked: number;
  duplicateWrites: number;
  reviewerEditsOverwritten: number;
  falseNeedsDecision: number;
  writesMissingFromAudit: number;
  auditEntriesWithoutWrite: number;
  reportRowsNotReconciled: number;
  recordsStuck: number;
}

export interface ChaosResult {
  counts: ChaosCounts;
  /** For each count that is not 0, the first few records behind it with Vault's log of their writes. */
  examples: Record<string, string[]>;
  figures: Record<string, string | number>;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-chaos-'));
  const random = seededRandom(o.seed);
  const dialect = o.dialect ?? 'documented';
  log(
    `chaos: ${o.records} records, seed ${o.seed}, ${dialect} dialect, ${o.workers ?? 1} workers, ${o.kills} worker kills, ${o.restarts} server restarts, ${o.dbRestarts} database restarts; ${dataDir}`,
  );

  const postgres = await startThrowawayPostgres();
  const databaseUrl = await migratedDatabase(postgres, 'capa_sync');
  const store = await openStore(databaseUrl, silentLogger);
  const sim = new VaultSimulator({ seed: o.seed, dialect });
  sim.store.seed(sampleRecords({ count: o.records, lockedFraction: LOCKED_FRACTION }));
  await sim.start();
  const lockedAtStart = [...sim.store.records.values()].filter((r) => sim.store.isLocked(r)).length;
  const [port, uiPort] = [await freePort(), await freePort()];
  const temporalDir = path.join(dataDir, 'temporal');
  let server = await startDevServer(temporalDir, port, uiPort);
  const address = `127.0.0.1:${port}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    VAULT_BASE_URL: sim.baseUrl,
    VAULT_DIALECT: dialect,
    CAPA_DATA_DIR: dataDir,
    CAPA_DATABASE_URL: databaseUrl,
    CAPA_TICK_SECONDS: '5',
    CAPA_TICKS_PER_STEP: '1000',
    CAPA_PAGE_SIZE: String(Math.max(100, Math.ceil(o.records / 10))),
    CAPA_ACTIVITY_MAX_RETRY_SECONDS: '10',
    VAULT_TIMEOUT_MS: '4000',
    VAULT_BACKOFF_BASE_MS: '100',
    VAULT_BACKOFF_MAX_MS: '2000',
    VAULT_MAX_RETRIES: '6',
    VAULT_BURST_THRESHOLD: '0',
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const workers = Array.from(
    { length: o.workers ?? 1 },
    (_, i) => new WorkerSupervisor(env, dataDir, `worker${i + 1}`),
  );
  workers.forEach((w) => w.start());
  sim.setFaults(CHAOS_FAULTS);
  const figures: Record<string, string | number> = {};

  let killsLeft = o.kills;
  let restartsLeft = o.restarts;
  let dbRestartsLeft = o.dbRestarts;
  const progressOf = async (batchId: string): Promise<BatchProgress | undefined> =>
    client.workflow
      .getHandle(`capa-batch:capa__c:${batchId}`)
      .query(progressQuery)
      .catch(() => undefined);
  /** SIGKILLs the worker, or restarts the dev server or the database, while any is left to do. */
  const disrupt = async (what: 'kill' | 'restart' | 'db-restart', phase: string) => {
    if (what === 'kill' && killsLeft > 0) {
      killsLeft--;
      // One worker: no draw, so that a seed's run stays what it was before there could be several.
      const victim = workers.length > 1 ? Math.floor(random() * workers.length) : 0;
      workers[victim].kill();
      const which = workers.length > 1 ? `${victim + 1} of ${workers.length}, ` : '';
      log(`  ${elapsed()}: worker SIGKILLed (${which}${phase})`);
    } else if (what === 'restart' && restartsLeft > 0) {
      restartsLeft--;
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      server = await startDevServer(temporalDir, port, uiPort);
      log(`  ${elapsed()}: dev server restarted (${phase})`);
    } else if (what === 'db-restart' && dbRestartsLeft > 0) {
      dbRestartsLeft--;
      await postgres.restart(() => sleep(3_000));
      log(`  ${elapsed()}: database restarted after 3 s down (${phase})`);
    }
  };

  try {
    const all = Array.from({ length: o.records }, (_, i) => i);
    const b1 = new Map(all.map((i) => [sampleRecordId(i), batch1Values(i)]));
    const b2 = new Map(all.filter(inBatch2).map((i) => [sampleRecordId(i), batch2Values(i)]));
    const file1 = writeExport(
      dataDir,
      'night-1.csv',
      all.map((i) => [i, batch1Values(i)]),
    );
    const file2 = writeExport(
      dataDir,
      'night-2.csv',
      all.filter(inBatch2).map((i) => [i, batch2Values(i)]),
    );

    /** Runs a night's batch to its end, calling `during` with its progress every 200 ms. */
    const night = async (batchId: string, source: string, during: (p?: BatchProgress) => Promise<void>) => {
      const handle = await startBatch(client, config, { source, batchId });
      // Its wait for the result outlives a server restart: the long poll it holds is cut, and asked again.
      const result = workflowResult(handle, (err) => err instanceof ServiceError);
      let done = false;
      const settle = () => (done = true);
      result.then(settle, settle);
      while (!done) {
        await during(await progressOf(batchId));
        await sleep(200);
      }
      return result;
    };

    // Night 1, with a worker kill while pages are applied and a server restart while records are handed off.
    const summary1 = await night('night-1', file1, async (p) => {
      if (p?.phase === 'applying' && p.pagesDone >= 1 && killsLeft === o.kills)
        await disrupt('kill', 'night 1 applying pages');
      if (p?.phase === 'applying' && p.pagesDone >= 3 && dbRestartsLeft === o.dbRestarts)
        await disrupt('db-restart', 'night 1 applying pages');
      if (p?.phase === 'handing-off' && restartsLeft === o.restarts) await disrupt('restart', 'night 1 handing off');
    });
    figures['night 1 done after'] = elapsed();
    log(`  ${elapsed()}: night 1 done: ${JSON.stringify(summary1.counts)}`);

    // Reviewers start approving now; night 2 hands off while night 1's record workflows apply.
    const { edited, editedLate } = scheduleReviews(sim.store, {
      withinMs: o.reviewSeconds * 1000,
      editFraction: o.editFraction ?? 0.02,
      lateEditFraction: o.lateEditFraction ?? 0.02,
      lateEditMs: LATE_EDIT_MS,
      editOf: (id) => ({
        risk_score__c:
          sim.store.records.get(id)!.fields.risk_score__c === REVIEWER_SCORE ? REVIEWER_SCORE - 0.5 : REVIEWER_SCORE,
      }),
      random,
    });
    // Night 2 reads again the records it asks about: an edit made before that read is its baseline, and its newer
    // values rightly replace it. Edits after capa-sync's read are kept to the records night 2 leaves alone.
    for (const id of b2.keys()) if (editedLate.delete(id)) delete sim.store.records.get(id)!.unlock!.editAfterRead;
    // The records night 2 asks about again are approved while night 2 runs (the morning rush): their night-1
    // workflows write as night 2 reads them and hands them over, the moments where newer values get lost.
    const rushStart = Date.now() + NIGHT_2_AFTER_MS;
    for (const id of b2.keys()) {
      const unlock = sim.store.records.get(id)!.unlock;
      if (unlock) unlock.atMs = rushStart + Math.floor(random() * NIGHT_2_RUSH_MS);
    }
    const reviewsEnd = Date.now() + Math.max(o.reviewSeconds * 1000, NIGHT_2_AFTER_MS + NIGHT_2_RUSH_MS);
    await sleep(NIGHT_2_AFTER_MS);
    const summary2 = await night('night-2', file2, async (p) => {
      if (p?.phase === 'handing-off' && killsLeft === o.kills - 1) await disrupt('kill', 'night 2 handing off');
    });
    log(`  ${elapsed()}: night 2 done: ${JSON.stringify(summary2.counts)}`);
    // The last kill lands while approved records are being written.
    while (killsLeft > 0) {
      await sleep(Math.max(1000, (reviewsEnd - Date.now()) / 3));
      await disrupt('kill', 'record workflows applying');
    }
    while (restartsLeft > 0) await disrupt('restart', 'record workflows applying');
    while (dbRestartsLeft > 0) await disrupt('db-restart', 'record workflows applying');

    // Settle: every approval is due; wait until no record workflow is waiting or applying.
    await sleep(Math.max(0, reviewsEnd - Date.now()));
    const deadline = Date.now() + o.settleSeconds * 1000;
    let unsettled = Infinity;
    while (Date.now() < deadline) {
      for (const rec of sim.store.records.values()) sim.store.get(rec.id); // approvals that are due take effect
      unsettled = await count(client, `ExecutionStatus = 'Running' AND CapaSyncState != 'needs-decision'`);
      if (unsettled === 0) break;
      await sleep(2_000);
    }
    figures['settled after'] = elapsed();
    log(`  ${elapsed()}: settled (${unsettled} record workflows still waiting or applying)`);

    const { counts, examples } = await check({ sim, client, store, b1, b2, edited, editedLate, unsettled });
    const calls = Object.values(sim.calls).reduce((a, b) => a + b, 0);
    const faulted = Object.entries(sim.faultsInjected);
    const faultedCalls = faulted.filter(([kind]) => kind !== 'raceCondition').reduce((sum, [, n]) => sum + n, 0);
    figures['vault calls'] = calls;
    figures['faulted calls'] =
      `${faultedCalls} (${((100 * faultedCalls) / calls).toFixed(1)}%): ${faulted.map(([k, n]) => `${k} ${n}`).join(', ')}`;
    figures['locked at start'] = lockedAtStart;
    figures['edited by reviewers'] = edited.size;
    figures['edited after capa-sync read them unlocked'] = editedLate.size;
    return { counts, examples, figures };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await connection.close();
    server.kill('SIGTERM');
    await sim.stop();
    await store.close();
    await postgres.stop();
  }
}

async function count(client: Client, filter: string): Promise<number> {
  const query = `WorkflowType = 'capaRecordWorkflow' AND ${filter}`;
  return (await client.workflow.count(query)).count;
}

/** Holds Vault's write log, its final state, capa-sync's audit trail and the reports against the inputs. */
async function check(c: {
  sim: VaultSimulator;
  client: Client;
  store: Store;
  b1: Map<string, FieldValues>;
  b2: Map<string, FieldValues>;
  edited: Set<string>;
  /** Edited seconds after capa-sync read them unlocked: written before the edit (which then stays), or stopped. */
  editedLate: Set<string>;
  unsettled: number;
}): Promise<{ counts: ChaosCounts; examples: Record<string, string[]> }> {
  const { sim, b1, b2, edited, editedLate } = c;
  const examples: Record<string, string[]> = {};
  const history = (id: string) =>
    sim.store.audit
      .filter((a) => a.recordId === id)
      .map(
        (a) =>
          `#${a.seq} ${a.time.slice(11, 23)} ${a.field} ${JSON.stringify(a.oldValue)}->${JSON.stringify(a.newValue)} by ${a.user} in ${a.state}`,
      );
  const example = (what: keyof ChaosCounts, id: string) => {
    const list = (examples[what] ??= []);
    if (list.length < 3 && !list.some((line) => line.startsWith(`${id}:`)))
      list.push(`${id}: ${history(id).join('; ')}`);
  };
  const newest = (id: string) => b2.get(id) ?? b1.get(id)!;
  const lastChangeBy = (id: string) =>
    sim.store.audit.filter((a) => a.recordId === id && !sameFieldValue(a.oldValue, a.newValue)).at(-1)?.user;
  const writes = sim.store.audit.filter((a) => a.user === DEFAULT_USERNAME);
  const lockedStates = sim.options.lockedStates;

  // The record workflows' last runs: which records stopped for a decision.
  const needsDecision = new Set<string>();
  for await (const wf of c.client.workflow.list({
    query: `WorkflowType = 'capaRecordWorkflow' AND ExecutionStatus = 'Running' AND CapaSyncState = 'needs-decision'`,
  })) {
    const status = await c.client.workflow.getHandle(wf.workflowId).query(statusQuery);
    needsDecision.add(status.recordId);
  }

  let rowsLost = 0;
  for (const id of b1.keys()) {
    const holds = Object.entries(newest(id)).every(([f, v]) => sameFieldValue(sim.store.records.get(id)!.fields[f], v));
    // A late edit that came after capa-sync's write stays: Vault then holds the reviewer's value, rightly.
    const editedAfterWrite = editedLate.has(id) && lastChangeBy(id) === REVIEWER;
    if (!holds && !((edited.has(id) || editedLate.has(id)) && needsDecision.has(id)) && !editedAfterWrite) {
      rowsLost++;
      example('rowsLost', id);
    }
  }

  let staleWrites = 0;
  for (const [id, v2] of b2) {
    const v1 = b1.get(id)!;
    for (const field of Object.keys(v2)) {
      if (sameFieldValue(v1[field], v2[field])) continue;
      const seq = writes.filter((w) => w.recordId === id && w.field === field);
      const newer = seq.findIndex((w) => sameFieldValue(w.newValue, v2[field]));
      const stale = newer < 0 ? 0 : seq.slice(newer + 1).filter((w) => sameFieldValue(w.newValue, v1[field])).length;
      if (stale) example('staleWrites', id);
      staleWrites += stale;
    }
  }

  const writesWhileLocked = writes.filter((w) => lockedStates.includes(w.state)).length;

  const byValue = new Map<string, number>();
  for (const w of writes) {
    const key = `${w.recordId}|${w.field}|${JSON.stringify(w.newValue)}`;
    byValue.set(key, (byValue.get(key) ?? 0) + 1);
  }
  const duplicateWrites = [...byValue.values()].reduce((sum, n) => sum + n - 1, 0);

  let reviewerEditsOverwritten = 0;
  const edits = sim.store.audit.filter((a) => a.user === REVIEWER && !sameFieldValue(a.oldValue, a.newValue));
  for (const edit of edits) {
    const over = writes.filter((w) => w.recordId === edit.recordId && w.field === edit.field && w.seq > edit.seq);
    if (over.length) example('reviewerEditsOverwritten', edit.recordId);
    reviewerEditsOverwritten += over.length;
  }

  const falseDecisions = [...needsDecision].filter((id) => !edited.has(id) && !editedLate.has(id));
  falseDecisions.forEach((id) => example('falseNeedsDecision', id));
  const falseNeedsDecision = falseDecisions.length;

  const audited = new Map<string, number>();
  for (const e of await c.store.audit.writes()) {
    const key = `${e.recordId}|${e.field}|${JSON.stringify(e.newValue)}`;
    audited.set(key, (audited.get(key) ?? 0) + 1);
  }
  let writesMissingFromAudit = 0;
  let auditEntriesWithoutWrite = 0;
  for (const key of new Set([...byValue.keys(), ...audited.keys()])) {
    const diff = (byValue.get(key) ?? 0) - (audited.get(key) ?? 0);
    if (diff) example(diff > 0 ? 'writesMissingFromAudit' : 'auditEntriesWithoutWrite', key.split('|')[0]);
    if (diff > 0) writesMissingFromAudit += diff;
    else auditEntriesWithoutWrite -= diff;
  }

  let reportRowsNotReconciled = 0;
  for (const [batchId, input] of [
    ['night-1', b1],
    ['night-2', b2],
  ] as const) {
    const ids = [...input.keys()];
    const seen = new Set<number>();
    for await (const r of c.store.batches.results(batchId)) {
      const expectedId = ids[r.row - 1];
      const ok =
        !seen.has(r.row) &&
        r.recordId === expectedId &&
        (r.outcome === 'waiting' ||
          (r.outcome === 'updated' &&
            writes.some(
              (w) => w.recordId === expectedId && sameFieldValue(w.newValue, input.get(expectedId)!.priority__c),
            )));
      seen.add(r.row);
      if (!ok) {
        reportRowsNotReconciled++;
        example('reportRowsNotReconciled', `${expectedId} (${batchId} row ${r.row}: ${r.outcome})`);
      }
    }
    reportRowsNotReconciled += ids.length - seen.size;
  }

  const counts = {
    rowsLost,
    staleWrites,
    writesWhileLocked,
    duplicateWrites,
    reviewerEditsOverwritten,
    falseNeedsDecision,
    writesMissingFromAudit,
    auditEntriesWithoutWrite,
    reportRowsNotReconciled,
    recordsStuck: c.unsettled,
  };
  return { counts, examples };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      kills: { type: 'string', default: '3' },
      restarts: { type: 'string', default: '1' },
      'db-restarts': { type: 'string', default: '1' },
      'review-seconds': { type: 'string', default: '180' },
      'settle-seconds': { type: 'string', default: '300' },
      'edit-fraction': { type: 'string', default: '0.02' },
      'late-edit-fraction': { type: 'string', default: '0.02' },
      dialect: { type: 'string', default: 'documented' },
      workers: { type: 'string', default: '1' },
    },
  });
  if (values.dialect !== 'documented' && values.dialect !== 'customer')
    throw new Error(`--dialect: documented or customer, not ${values.dialect}`);
  if (!(Number(values.workers) >= 1 && Number.isInteger(Number(values.workers))))
    throw new Error(`--workers: a whole number from 1, not ${values.workers}`);
  const result = await runChaos({
    records: Number(values.records),
    seed: Number(values.seed),
    kills: Number(values.kills),
    restarts: Number(values.restarts),
    dbRestarts: Number(values['db-restarts']),
    reviewSeconds: Number(values['review-seconds']),
    settleSeconds: Number(values['settle-seconds']),
    editFraction: Number(values['edit-fraction']),
    lateEditFraction: Number(values['late-edit-fraction']),
    dialect: values.dialect,
    workers: Number(values.workers),
  });
  console.log('\nwhat                           count');
  for (const [what, n] of Object.entries(result.counts)) console.log(`${what.padEnd(30)} ${n}`);
  for (const [what, v] of Object.entries(result.figures)) console.log(`(${what}: ${v})`);
  for (const [what, list] of Object.entries(result.examples))
    console.log(`\n${what}, for example:\n  ${list.join('\n  ')}`);
  const failed = Object.values(result.counts).some((n) => n !== 0);
  console.log(failed ? '\nFAILED: capa-sync lost track of something' : '\nOK: every count is 0');
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`chaos: ${(err as Error).stack}`);
      process.exit(2);
    },
  );
}
