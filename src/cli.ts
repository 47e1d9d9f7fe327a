import { parseArgs } from 'node:util';
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { AppConfig, ConfigError, loadConfig } from './config';
import { BatchIdRefused, decide, listRecords, newBatchId, recordStatus, startBatch } from './operations';
import { DEFAULT_SCHEDULE_ID, upsertSchedule } from './schedule';
import { connectClient } from './temporal-connection';
import path from 'node:path';
import { writeBatchReport } from './reports/batch-report';
import { isUrl, sourceLocation } from './sources/read-source';
import { openStore, Store } from './store/store';
import { stageFile } from './store/staged-sources';
import { StoreUnavailable } from './store/database';
import { silentLogger } from './logger';
import { runWorker } from './worker';
import { runSimulator } from './simulator/main';
import { runDemo } from './demo';
import { followBatch, summaryTable, table } from './batch-output';
import { SYNC_STATES, SyncState } from './workflows/record-messages';

/** Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration, 3 not found. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

class UsageError extends Error {}
class NotFound extends Error {}

const HELP: Record<string, string> = {
  '': `capa-sync: keeps Veeva Vault CAPA records in sync with the risk system, waiting out workflow locks.

Usage: capa-sync <command> [options]   (every command takes --help; most take --json)

  demo                                   the main job on the embedded Temporal dev server and Vault simulator
  run --source <file|url> [--detach]     run a batch now (needs a running worker)
  worker                                 run the worker (all workflows and activities)
  simulator [--port --records --locked-fraction --dialect --seed --faults --review-within-seconds --edit-fraction]
                                         run the Vault simulator (faults and reviewers scripted, repeatable)
  schedule create|describe|pause|unpause|trigger|delete      the nightly Temporal Schedule
  list [--state <CapaSyncState>]         record workflows (default: all running)
  status <recordId>                      one record workflow's status
  force <recordId> --operator <name> --reason <text>   apply now, past the conflict guard
  cancel <recordId> --operator <name> --reason <text>  drop the pending change
  report <batchId> [--out <dir>]         a batch's summary (from the store), and its report files
  audit --record <id> | --batch <id>     the audit trail's entries;  audit verify: check its hash chain

Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 not found.`,
  run:
    'capa-sync run --source <file|url> [--batch-id <id>] [--detach] [--json]\n' +
    '  Starts a batch; waits for it and prints the summary unless --detach. A file is read here and staged in the\n' +
    '  store, so any worker can prepare it; a URL is fetched by the worker.',
  schedule: `capa-sync schedule create --source <file|url> [--cron "0 2 * * *"] [--timezone UTC] [--catchup "6 hours"] [--id ${DEFAULT_SCHEDULE_ID}]
capa-sync schedule describe|pause|unpause|trigger|delete [--id ${DEFAULT_SCHEDULE_ID}] [--json]
  create is idempotent: it creates the schedule or updates the existing one. Overlapping runs are skipped.`,
  list: `capa-sync list [--state ${SYNC_STATES.join('|')}] [--json]`,
  status: 'capa-sync status <recordId> [--json]',
  force:
    'capa-sync force <recordId> --operator <name> --reason <text> [--json]\n  Applies now even past the conflict guard; if Vault still locks the record, says so and keeps waiting.',
  cancel: 'capa-sync cancel <recordId> --operator <name> --reason <text> [--json]',
  report:
    "capa-sync report <batchId> [--out <dir>] [--json]\n  The batch's summary from the store; --out writes report.json and the success, waiting and failure CSVs there.",
  audit:
    'capa-sync audit --record <recordId> | --batch <batchId> [--json]\ncapa-sync audit verify [--json]\n' +
    '  Reads the audit trail from the store; verify recomputes its hash chain and names the first entry that breaks it.',
  worker: 'capa-sync worker\n  Runs the worker with the configuration from the environment (see README).',
  simulator:
    'capa-sync simulator [--port 8100] [--records 2000] [--locked-fraction 0.1] [--dialect documented|customer]\n' +
    '  [--seed 42] [--faults \'{"serverErrorRate":0.02,"lostAnswerRate":0.03}\'] [--latency-ms 0]\n' +
    '  [--review-within-seconds S --edit-fraction F]   approve every locked record within S s, editing F of them',
  demo: 'capa-sync demo\n  Starts the Temporal dev server (Web UI http://localhost:8233), the Vault simulator and the worker, runs the sample batch, and keeps running until Ctrl-C.',
};

const OPTIONS = {
  help: { type: 'boolean' },
  json: { type: 'boolean' },
  detach: { type: 'boolean' },
  source: { type: 'string' },
  'batch-id': { type: 'string' },
  state: { type: 'string' },
  operator: { type: 'string' },
  reason: { type: 'string' },
  cron: { type: 'string' },
  timezone: { type: 'string' },
  catchup: { type: 'string' },
  id: { type: 'string' },
  out: { type: 'string' },
  record: { type: 'string' },
  batch: { type: 'string' },
} as const;

function output(json: boolean, data: unknown, human: string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human);
}

async function withStore<T>(config: AppConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.databaseUrl, silentLogger);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function withClient<T>(config: AppConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(config.temporal);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** `label` is how the user writes it: "--source" or "<recordId>". */
function required(value: string | undefined, label: string): string {
  if (!value || !value.trim()) throw new UsageError(`${label} is required`);
  return value;
}

export async function main(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  if (command === '--help' || command === 'help' || command === '') {
    console.log(HELP['']);
    return command === '' ? EXIT.usage : EXIT.ok;
  }
  if (!(command in HELP)) throw new UsageError(`unknown command "${command}" (see capa-sync --help)`);
  if (command === 'simulator') {
    await runSimulator(rest);
    return new Promise(() => undefined); // serves until killed
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    console.log(HELP[command]);
    return EXIT.ok;
  }
  const json = !!o.json;
  if (command === 'demo') return runDemo();
  const config = loadConfig();
  switch (command) {
    case 'worker':
      await runWorker(config);
      return EXIT.ok;
    case 'run':
      required(o.source, '--source');
      return withClient(config, async (client) => {
        const batchId = o['batch-id'] ?? newBatchId();
        // A file on this machine is staged in the store: the worker that prepares the batch may be on another host.
        const source = isUrl(o.source!)
          ? o.source!
          : await withStore(config, (store) => stageFile(store.pool, sourceLocation(o.source!)));
        const handle = await startBatch(client, config, { source, batchId });
        if (o.detach) {
          output(
            json,
            { batchId, workflowId: handle.workflowId },
            `Started batch ${batchId} (workflow ${handle.workflowId})`,
          );
          return EXIT.ok;
        }
        const summary = await followBatch(client, handle.workflowId, !json && process.stdout.isTTY);
        output(json, summary, summaryTable(summary));
        return EXIT.ok;
      });
    case 'list':
      return withClient(config, async (client) => {
        if (o.state && !SYNC_STATES.includes(o.state as SyncState))
          throw new UsageError(`--state must be one of ${SYNC_STATES.join(', ')}`);
        const records = await listRecords(client, config, o.state as SyncState | undefined);
        output(
          json,
          records,
          records.length
            ? table(records as never, ['recordId', 'state', 'vaultState', 'batchId', 'startTime'])
            : 'No record workflows.',
        );
        return EXIT.ok;
      });
    case 'status': {
      const recordId = required(positionals[0], '<recordId>');
      return withClient(config, async (client) => {
        const status = await recordStatus(client, config, recordId).catch(notFound(recordId));
        output(
          json,
          status,
          Object.entries(status)
            .map(([k, v]) => `${k.padEnd(16)} ${typeof v === 'object' ? JSON.stringify(v) : (v ?? '')}`)
            .join('\n'),
        );
        return EXIT.ok;
      });
    }
    case 'force':
    case 'cancel': {
      const [recordId, operator, reason] = [
        required(positionals[0], '<recordId>'),
        required(o.operator, '--operator'),
        required(o.reason, '--reason'),
      ];
      return withClient(config, async (client) => {
        const result = await decide(client, config, command, recordId, operator, reason).catch(notFound(recordId));
        output(json, { recordId, result }, `${recordId}: ${result}`);
        return EXIT.ok;
      });
    }
    case 'report': {
      const batchId = required(positionals[0], '<batchId>');
      return withStore(config, async (store) => {
        const batch = await store.batches.batch(batchId);
        if (!batch) throw new NotFound(`no batch ${batchId} in the store`);
        if (batch.status !== 'finished' && !o.out) {
          const { counts } = await store.batches.counts(batchId);
          output(json, { ...batch, counts }, `Batch ${batchId} is ${batch.status}: ${JSON.stringify(counts)}`);
          return EXIT.ok;
        }
        const dir = path.resolve(o.out ?? path.join(config.dataDir, 'reports', batchId));
        const summary = await writeBatchReport(store.batches, batch, dir);
        output(json, { ...summary, source: batch.source, status: batch.status }, summaryTable(summary));
        return EXIT.ok;
      });
    }
    case 'audit':
      return withStore(config, (store) => auditCommand(store, positionals[0], o, json));
    case 'schedule':
      return withClient(config, (client) => scheduleCommand(client, config, positionals[0], o, json));
  }
  return EXIT.usage;
}

async function auditCommand(
  store: Store,
  action: string | undefined,
  o: Record<string, unknown>,
  json: boolean,
): Promise<number> {
  if (action === 'verify') {
    const result = await store.audit.verify();
    const b = result.broken;
    output(
      json,
      result,
      b
        ? `Audit trail BROKEN at entry ${b.seq} (${b.recordId} ${b.field}): ${b.problem}. ${result.entries} entries before it verify.`
        : `Audit trail intact: ${result.entries} entries, hash chain verified.`,
    );
    return b ? EXIT.failed : EXIT.ok;
  }
  if (action) throw new UsageError(`unknown audit action "${action}" (verify, or --record / --batch)`);
  if (!o.record && !o.batch) throw new UsageError('audit needs --record <recordId>, --batch <batchId> or verify');
  const entries = await store.audit.read({ recordId: o.record as string, batchId: o.batch as string });
  const shown = entries.map((e) => ({
    ...e,
    change: `${JSON.stringify(e.oldValue)} -> ${JSON.stringify(e.newValue)}`,
    who: e.reason ? `${e.actor} (${e.reason})` : e.actor,
  }));
  output(
    json,
    entries,
    entries.length
      ? table(shown as never, ['seq', 'time', 'recordId', 'field', 'change', 'who', 'batchId', 'writeId'])
      : 'No audit entries.',
  );
  return EXIT.ok;
}

async function scheduleCommand(
  client: Client,
  config: AppConfig,
  action: string | undefined,
  o: Record<string, unknown>,
  json: boolean,
): Promise<number> {
  const scheduleId = (o.id as string | undefined) ?? DEFAULT_SCHEDULE_ID;
  const handle = client.schedule.getHandle(scheduleId);
  switch (action) {
    case 'create': {
      const source = required(o.source as string | undefined, '--source');
      const result = await upsertSchedule(client, config, {
        scheduleId,
        source: sourceLocation(source),
        cron: (o.cron as string | undefined) ?? '0 2 * * *',
        timezone: (o.timezone as string | undefined) ?? 'UTC',
        catchupWindow: ((o.catchup as string | undefined) ?? '6 hours') as Duration,
      });
      output(json, { scheduleId, result }, `Schedule ${scheduleId} ${result}`);
      return EXIT.ok;
    }
    case 'describe': {
      const d = await handle.describe().catch(notFound(scheduleId));
      const info = {
        scheduleId,
        spec: d.spec,
        paused: d.state.paused,
        note: d.state.note,
        nextActionTimes: d.info.nextActionTimes,
        recentActions: d.info.recentActions,
      };
      output(json, info, JSON.stringify(info, null, 2));
      return EXIT.ok;
    }
    case 'pause':
    case 'unpause':
    case 'trigger':
    case 'delete':
      await (
        action === 'pause'
          ? handle.pause('paused by capa-sync CLI')
          : action === 'unpause'
            ? handle.unpause()
            : action === 'trigger'
              ? handle.trigger()
              : handle.delete()
      ).catch(notFound(scheduleId));
      output(json, { scheduleId, action }, `Schedule ${scheduleId}: ${action} done`);
      return EXIT.ok;
    default:
      throw new UsageError(`schedule needs an action: create, describe, pause, unpause, trigger or delete`);
  }
}

const notFound = (what: string | undefined) => (err: unknown) => {
  const name = (err as Error)?.name;
  if (err instanceof WorkflowNotFoundError || name === 'ScheduleNotFoundError' || name === 'WorkflowNotFoundError') {
    throw new NotFound(`${what}: not found`);
  }
  throw err;
};

/** One clear line per error, never a stack trace; the exit code says which kind. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof StoreUnavailable) return { code: EXIT.failed, message: err.message };
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof BatchIdRefused)
    return { code: EXIT.usage, message: err.message };
  if (err instanceof NotFound) return { code: EXIT.notFound, message: err.message };
  if (err instanceof WorkflowUpdateFailedError)
    return { code: EXIT.failed, message: `refused: ${(err.cause as Error)?.message ?? err.message}` };
  // A failed workflow's own message is generic ("Activity task failed"): the deepest cause says what happened.
  let root = err as Error;
  while ((root?.cause as Error | undefined)?.message) root = root.cause as Error;
  const e = err as Error;
  return { code: EXIT.failed, message: root === e ? String(e?.message ?? err) : `${e.message}: ${root.message}` };
}
