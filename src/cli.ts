import { Command, CommanderError } from 'commander';
import { Client, isGrpcServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { AppConfig, ConfigError, loadConfig } from './config';
import {
  BatchIdRefused,
  decide,
  DecisionNotDelivered,
  listRecords,
  newBatchId,
  recordStatus,
  startBatch,
  startPlan,
  startRevert,
  decideBatch,
  listBatches,
} from './operations';
import { DEFAULT_SCHEDULE_ID, upsertSchedule } from './schedule';
import { connectClient } from './temporal-connection';
import fs from 'node:fs';
import path from 'node:path';
import { writeBatchReport } from './reports/batch-report';
import { isUrl, localSourceFile, sourceLocation } from './sources/read-source';
import { openStore, Store } from './store/store';
import type { BatchRecord } from './store/batch-store';
import { databaseRole, migrateStore, StoreUnavailable } from './store/database';
import { silentLogger } from './logger';
import { commandOrigin } from './command-origin';
import {
  anchorsFrom,
  anchorsInReports,
  describeVerify,
  entryLine,
  exportTrail,
  findPublicKeys,
} from './audit/audit-commands';
import { writeKeyPair } from './audit/signing-key';
import { runWorker } from './worker';
import { runSimulator, SIMULATOR_OPTIONS, SimulatorOptions } from './simulator/main';
import { runDemo } from './demo';
import { followBatch, planTable, summaryTable, table } from './batch-output';
import { writePlanReport } from './change-control/plan-report';
import { revertRefusal } from './change-control/revert';
import { type OperatorDecision, SYNC_STATES, SyncState } from './contracts/record-messages';
import type { BatchSummary } from './contracts/batch-messages';

/** Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration, 3 not found. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

class UsageError extends Error {}
class NotFound extends Error {}

/** Each command's options, as commander hands them over (camel-cased flags). */
interface JsonOption {
  json?: boolean;
}
interface RunOptions extends JsonOption {
  source?: string;
  batchId?: string;
  out?: string;
  detach?: boolean;
}
interface RevertOptions extends JsonOption {
  operator?: string;
  reason?: string;
  record?: string[];
  batchId?: string;
  out?: string;
}
interface PlanOptions extends JsonOption {
  source?: string;
  planId?: string;
  out?: string;
}
interface ListOptions extends JsonOption {
  state?: string;
  batches?: boolean;
}
interface DecisionOptions extends JsonOption {
  operator?: string;
  reason?: string;
}
interface ReportOptions extends JsonOption {
  out?: string;
  plan?: boolean;
}
interface AuditOptions extends JsonOption {
  record?: string;
  batch?: string;
  anchor: string[];
  reports?: string;
  publicKey?: string;
  from?: string;
  to?: string;
  out?: string;
}
interface ScheduleOptions extends JsonOption {
  source?: string;
  cron: string;
  timezone: string;
  catchup: string;
  id: string;
}

const json = (o: JsonOption) => o.json === true;

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
  if (typeof value !== 'string' || !value.trim()) throw new UsageError(`${label} is required`);
  return value;
}

/**
 * The command line, on commander: each subcommand has its own options and `--help`. Commander's own exits and
 * messages are turned into ours (one line on stderr, the documented exit codes).
 */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('capa-sync')
    .description('Keeps Veeva Vault CAPA records in sync with the risk system, waiting out workflow locks.')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 not found.')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  /** A subcommand whose action runs with the configuration from the environment and sets the exit code. */
  const command = <Args extends unknown[]>(
    name: string,
    description: string,
    action: (config: AppConfig, ...args: Args) => Promise<number>,
  ) =>
    program
      .command(name)
      .description(description)
      .action(async (...args: unknown[]) => {
        // Commander passes the declared arguments, then the options object: what each action's types say.
        code = await action(loadConfig(), ...(args as Args));
      });

  program
    .command('demo')
    .description(
      'the main job on the embedded Temporal dev server and Vault simulator (Web UI http://localhost:8233), until Ctrl-C',
    )
    .action(async () => {
      code = await runDemo();
    });
  command(
    'worker',
    'run the worker (all workflows and activities), configured from the environment',
    async (config) => {
      await runWorker(config);
      return EXIT.ok;
    },
  );
  const simulator = program
    .command('simulator')
    .description('run the Vault simulator (faults and reviewers scripted, repeatable)');
  for (const [flags, description, fallback] of SIMULATOR_OPTIONS) simulator.option(flags, description, fallback);
  simulator.action(async (o: SimulatorOptions) => {
    await runSimulator(o);
    await new Promise(() => undefined); // serves until killed
  });

  command(
    'run',
    'run a batch now (needs a running worker); waits for it and prints the summary',
    async (config, o: RunOptions) => {
      const given = required(o.source, '--source');
      return withClient(config, async (client) => {
        const batchId = o.batchId ?? newBatchId();
        const { account, host } = commandOrigin();
        const source = await batchSource(config, given);
        const handle = await startBatch(client, config, { source, batchId, startedBy: `${account}@${host}` });
        if (o.detach) {
          output(
            json(o),
            { batchId, workflowId: handle.workflowId },
            `Started batch ${batchId} (workflow ${handle.workflowId})`,
          );
          return EXIT.ok;
        }
        return followAndReport(config, client, handle.workflowId, batchId, o);
      });
    },
  )
    .option('--source <file|url>', 'the export: a file here (staged in the store, so any worker can read it) or a URL')
    .option('--batch-id <id>', 'the batch id (default: from the time)')
    .option('--detach', 'start it and return')
    .option('--out <dir>', 'write the report files there (default: CAPA_DATA_DIR/reports/<batchId>)')
    .option('--json', 'print JSON');

  command(
    'revert',
    'restore the values a batch wrote (from the audit trail), as a batch of its own; records changed since are left as they are',
    async (config, of: string, o: RevertOptions) => {
      const operator = required(o.operator, '--operator');
      const reason = required(o.reason, '--reason');
      return withClient(config, async (client) => {
        const refusal = await withStore(config, async (store) => revertRefusal(of, await store.batches.batch(of)));
        if (refusal) throw new UsageError(refusal);
        const batchId = o.batchId ?? `revert-${newBatchId()}`;
        const { account, host } = commandOrigin();
        const handle = await startRevert(client, config, {
          batchId,
          startedBy: `${account}@${host}`,
          revert: { of, operator, reason, ...(o.record?.length ? { records: o.record } : {}) },
        });
        return followAndReport(config, client, handle.workflowId, batchId, o);
      });
    },
  )
    .argument('<batchId>', 'the batch to revert')
    .option('--operator <name>', 'who asks (audited)')
    .option('--reason <text>', 'why (audited)')
    .option('--record <id...>', 'revert these records only')
    .option('--batch-id <id>', "the revert's own batch id (default: revert- and the time)")
    .option('--out <dir>', 'write the report files there (default: CAPA_DATA_DIR/reports/<batchId>)')
    .option('--json', 'print JSON');

  command(
    'plan',
    'a dry run of a batch on the live vault (needs a running worker): what each row would do, each field old -> new; writes nothing to Vault',
    async (config, o: PlanOptions) => {
      const given = required(o.source, '--source');
      return withClient(config, async (client) => {
        const planId = o.planId ?? `plan-${newBatchId()}`;
        const handle = await startPlan(client, config, { source: await batchSource(config, given), planId });
        await handle.result();
        const summary = await withStore(config, async (store) =>
          writePlanReport(
            store.batches,
            await batchOf(store, planId),
            path.resolve(o.out ?? path.join(config.dataDir, 'plans', planId)),
          ),
        );
        output(json(o), summary, planTable(summary));
        return EXIT.ok;
      });
    },
  )
    .option('--source <file|url>', 'the export, as `run` takes it')
    .option('--plan-id <id>', 'the plan id (default: plan- and the time)')
    .option('--out <dir>', 'write plan.json, plan.csv and plan.html there (default: CAPA_DATA_DIR/plans/<planId>)')
    .option('--json', 'print JSON');

  command(
    'list',
    'record workflows (default: all running); --batches: running batches',
    async (config, o: ListOptions) =>
      withClient(config, async (client) => {
        if (o.batches) {
          const batches = await listBatches(client, config);
          output(
            json(o),
            batches,
            batches.length ? table(batches, ['batchId', 'approval', 'startTime']) : 'No running batches.',
          );
          return EXIT.ok;
        }
        const state = o.state as SyncState | undefined;
        if (state && !SYNC_STATES.includes(state))
          throw new UsageError(`--state must be one of ${SYNC_STATES.join(', ')}`);
        const records = await listRecords(client, config, state);
        output(
          json(o),
          records,
          records.length
            ? table(records, ['recordId', 'state', 'vaultState', 'batchId', 'startTime'])
            : 'No record workflows.',
        );
        return EXIT.ok;
      }),
  )
    .option('--state <CapaSyncState>', SYNC_STATES.join(' | '))
    .option('--batches', 'the running batches and where the approval gate has them (CapaBatchState)')
    .option('--json', 'print JSON');

  command('status', "one record workflow's status", async (config, recordId: string, o: JsonOption) =>
    withClient(config, async (client) => {
      const status = await recordStatus(client, config, recordId).catch(notFound(recordId));
      output(
        json(o),
        status,
        Object.entries(status)
          .map(([k, v]) => `${k.padEnd(16)} ${typeof v === 'object' ? JSON.stringify(v) : (v ?? '')}`)
          .join('\n'),
      );
      return EXIT.ok;
    }),
  )
    .argument('<recordId>')
    .option('--json', 'print JSON');

  /** An operator's decision on a record or a batch: who and why are required (and audited). */
  const decisionCommand = (
    name: string,
    description: string,
    subject: 'recordId' | 'batchId',
    send: (client: Client, config: AppConfig, id: string, decision: OperatorDecision) => Promise<string>,
  ) =>
    command(name, description, async (config, id: string, o: DecisionOptions) => {
      const decision = { operator: required(o.operator, '--operator'), reason: required(o.reason, '--reason') };
      return withClient(config, async (client) => {
        const result = await send(client, config, id, decision).catch(notFound(id));
        output(json(o), { [subject]: id, result }, `${id}: ${result}`);
        return EXIT.ok;
      });
    })
      .argument(`<${subject}>`)
      .option('--operator <name>', 'who decides (audited)')
      .option('--reason <text>', 'why (audited)')
      .option('--json', 'print JSON');
  const onWait = (message: string) => console.error(`capa-sync: ${message}`);
  for (const [kind, description] of [
    ['force', 'apply now, past the conflict guard; if Vault still locks the record, says so and keeps waiting'],
    ['cancel', 'drop the pending change'],
  ] as const)
    decisionCommand(kind, description, 'recordId', (client, config, id, d) =>
      decide(client, config, kind, id, d, onWait),
    );
  for (const [kind, description] of [
    ['approve', 'let a batch the approval gate holds write (not by the one who started it)'],
    ['reject', 'reject a batch the approval gate holds: nothing of it is written'],
  ] as const)
    decisionCommand(kind, description, 'batchId', (client, config, id, d) =>
      decideBatch(client, config, kind, id, d, onWait),
    );

  command(
    'report',
    "a batch's summary from the store, and its report files",
    async (config, batchId: string, o: ReportOptions) =>
      withStore(config, async (store) => {
        const batch = await batchOf(store, batchId);
        if (o.plan) {
          // What its gate's read found, for an approver of a held batch: plan.json, plan.csv and plan.html.
          const dir = path.resolve(o.out ?? path.join(config.dataDir, 'plans', batchId));
          const plan = await writePlanReport(store.batches, batch, dir);
          output(json(o), plan, planTable(plan));
          return EXIT.ok;
        }
        if (batch.status !== 'finished' && !o.out) {
          const { counts } = await store.batches.counts(batchId);
          output(json(o), { ...batch, counts }, `Batch ${batchId} is ${batch.status}: ${JSON.stringify(counts)}`);
          return EXIT.ok;
        }
        const summary = await localReport(config, store, batch, o.out);
        output(json(o), { ...summary, source: batch.source, status: batch.status }, summaryTable(summary));
        return EXIT.ok;
      }),
  )
    .argument('<batchId>')
    .option('--out <dir>', 'write report.json and the success, waiting and failure CSVs there')
    .option(
      '--plan',
      'write the plan its approval gate read instead (plan.html for an approver), to --out or CAPA_DATA_DIR/plans/<batchId>',
    )
    .option('--json', 'print JSON');

  command(
    'audit',
    "the audit trail's writes and decisions (--record or --batch); `audit verify` checks its chain and signed heads; `audit export` writes a range for an auditor; `audit keygen` makes a signing key pair",
    async (config, action: string | undefined, o: AuditOptions) =>
      action === 'keygen'
        ? keygenCommand(required(o.out, '--out'), json(o))
        : withStore(config, (store) => auditCommand(config, store, action, o, json(o))),
  )
    .argument('[verify|export|keygen]')
    .option('--record <recordId>', "a record's entries (listing, export)")
    .option('--batch <batchId>', "a batch's entries (listing)")
    .option('--anchor <json|file>', 'verify: a signed head to check too (repeatable)', collect, [])
    .option('--reports <dir>', 'verify: check the signed heads of every report.json under this folder')
    .option('--public-key <file>', 'verify: the public key (default CAPA_AUDIT_PUBLIC_KEY_FILE)')
    .option('--from <date>', 'export: first day or time (inclusive)')
    .option('--to <date>', 'export: last day or time (a date: that whole day)')
    .option('--out <file|dir>', 'export: the CSV file to write; keygen: the folder for the key pair')
    .option('--json', 'print JSON');

  command(
    'db',
    "`db migrate`: brings the store's schema up to date as its owner (CAPA_DATABASE_OWNER_URL) and grants the runtime role of CAPA_DATABASE_URL what it needs",
    async (config, action: string | undefined, o: JsonOption) => {
      if (action !== 'migrate') throw new UsageError('db needs an action: migrate');
      if (!config.databaseOwnerUrl)
        throw new UsageError("db migrate needs CAPA_DATABASE_OWNER_URL (the schema owner's login)");
      const { from, to } = await migrateStore(config.databaseOwnerUrl, config.databaseUrl, silentLogger);
      const role = databaseRole(config.databaseUrl);
      output(
        json(o),
        { from, to, runtimeRole: role },
        from === to
          ? `The store's schema is at version ${to}; privileges of ${role} granted again.`
          : `The store's schema went from version ${from} to ${to}; ${role} granted what it needs.`,
      );
      return EXIT.ok;
    },
  )
    .argument('[action]')
    .option('--json', 'print JSON');

  command(
    'schedule',
    'the nightly Temporal Schedule: create (idempotent) | describe | pause | unpause | trigger | delete',
    async (config, action: string | undefined, o: ScheduleOptions) =>
      withClient(config, (client) => scheduleCommand(client, config, action, o, json(o))),
  )
    .argument('[action]')
    .option('--source <file|url>', 'create: the export every run reads (a URL, or a path every worker can read)')
    .option('--cron <expr>', 'create: when', '0 2 * * *')
    .option('--timezone <tz>', 'create: in which time zone', 'UTC')
    .option('--catchup <duration>', 'create: how late a missed run may still start', '6 hours')
    .option('--id <scheduleId>', 'the schedule', DEFAULT_SCHEDULE_ID)
    .option('--json', 'print JSON');

  if (!argv.length) {
    program.outputHelp();
    return EXIT.usage;
  }
  // Commander answers `unknown --help` with the top-level help and exit 0; an unknown command is bad usage.
  const known = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]).concat('help'));
  if (!argv[0].startsWith('-') && !known.has(argv[0])) {
    throw new UsageError(`unknown command '${argv[0]}' (see capa-sync --help)`);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return EXIT.ok; // --help, help <command>
    throw new UsageError(`${err.message.replace(/^error: /, '')} (see capa-sync --help)`);
  }
  return code;
}

/** A file on this machine is staged in the store (the worker that reads it may be on another host); a URL is given as is. */
async function batchSource(config: AppConfig, given: string): Promise<string> {
  if (isUrl(given)) return given;
  return withStore(config, async (store) => store.staged.stage(await localSourceFile(given)));
}

/** Follows a batch to its end and writes its report here (the worker that finished it wrote its own on its disk). */
async function followAndReport(
  config: AppConfig,
  client: Client,
  workflowId: string,
  batchId: string,
  o: JsonOption & { out?: string },
): Promise<number> {
  await followBatch(client, workflowId, !json(o) && process.stdout.isTTY);
  const summary = await withStore(config, async (store) =>
    localReport(config, store, await batchOf(store, batchId), o.out),
  );
  output(json(o), summary, summaryTable(summary));
  return EXIT.ok;
}

/** A batch from the store, or "not found". */
async function batchOf(store: Store, batchId: string): Promise<BatchRecord> {
  const batch = await store.batches.batch(batchId);
  if (!batch) throw new NotFound(`no batch ${batchId} in the store`);
  return batch;
}

/** A batch's report files from the store, written on this machine: into `out`, or under CAPA_DATA_DIR. */
function localReport(config: AppConfig, store: Store, batch: BatchRecord, out?: string): Promise<BatchSummary> {
  if (batch.kind === 'plan')
    throw new UsageError(`${batch.batchId} is a plan, not a batch: \`capa-sync plan\` wrote its report`);
  const dir = path.resolve(out ?? path.join(config.dataDir, 'reports', batch.batchId));
  return writeBatchReport(store.batches, batch, dir);
}

async function auditCommand(
  config: AppConfig,
  store: Store,
  action: string | undefined,
  o: AuditOptions,
  json: boolean,
): Promise<number> {
  if (action === 'verify') {
    const anchors = [...o.anchor.flatMap(givenAnchor), ...(o.reports ? anchorsInReports(o.reports) : [])];
    if (o.publicKey && !fs.existsSync(o.publicKey)) throw new UsageError(`--public-key: no file ${o.publicKey}`);
    const publicKeys = findPublicKeys(o.publicKey ? [o.publicKey] : config.audit.publicKeyFiles);
    const result = await store.audit.verify({ anchors, publicKeys });
    output(json, result, describeVerify(result));
    return result.problems.length ? EXIT.failed : EXIT.ok;
  }
  if (action === 'export') {
    const range = { from: day(required(o.from, '--from'), 'start'), to: day(required(o.to, '--to'), 'end') };
    const done = await exportTrail(store.audit, { ...range, recordId: o.record }, required(o.out, '--out'));
    output(
      json,
      done,
      `Exported ${done.entries} audit entries and the ${done.anchors} signed heads that cover them:\n  ${done.files.join('\n  ')}`,
    );
    return EXIT.ok;
  }
  if (action) throw new UsageError(`unknown audit action "${action}" (verify, export, keygen, or --record / --batch)`);
  if (!o.record && !o.batch)
    throw new UsageError('audit needs --record <recordId>, --batch <batchId>, verify or export');
  const entries = await store.audit.read({ recordId: o.record, batchId: o.batch });
  output(
    json,
    entries,
    entries.length
      ? table(entries.map(entryLine), ['seq', 'time', 'recordId', 'what', 'who', 'batchId'])
      : 'No audit entries.',
  );
  return EXIT.ok;
}

function givenAnchor(given: string) {
  try {
    return anchorsFrom(given);
  } catch (err) {
    throw new UsageError(`--anchor: ${(err as Error).message}`);
  }
}

/** A date (the start of that day, or the start of the next one for `end`) or a full ISO time, as given. */
function day(given: string, edge: 'start' | 'end'): string {
  const t = new Date(/^\d{4}-\d{2}-\d{2}$/.test(given) ? `${given}T00:00:00Z` : given);
  if (Number.isNaN(t.getTime())) throw new UsageError(`not a date: ${given} (give 2026-12-01 or an ISO time)`);
  if (edge === 'end' && /^\d{4}-\d{2}-\d{2}$/.test(given)) t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString();
}

function keygenCommand(dir: string, json: boolean): number {
  const files = {
    privateKey: path.join(dir, 'audit-signing-key.pem'),
    publicKey: path.join(dir, 'audit-signing-key.pub.pem'),
  };
  if (!writeKeyPair(files)) throw new UsageError(`${files.privateKey} exists already: nothing written`);
  output(
    json,
    files,
    `Audit signing key pair written:\n  private (CAPA_AUDIT_SIGNING_KEY_FILE, the workers' secret): ${files.privateKey}\n  public (for auditors, CAPA_AUDIT_PUBLIC_KEY_FILE): ${files.publicKey}`,
  );
  return EXIT.ok;
}

const collect = (value: string, previous: string[]) => [...previous, value];

async function scheduleCommand(
  client: Client,
  config: AppConfig,
  action: string | undefined,
  o: ScheduleOptions,
  json: boolean,
): Promise<number> {
  const scheduleId = o.id;
  const handle = client.schedule.getHandle(scheduleId);
  switch (action) {
    case 'create': {
      const source = required(o.source, '--source');
      const result = await upsertSchedule(client, config, {
        scheduleId,
        source: sourceLocation(source),
        cron: o.cron,
        timezone: o.timezone,
        catchupWindow: o.catchup as Duration,
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
  if (err instanceof StoreUnavailable || err instanceof DecisionNotDelivered)
    return { code: EXIT.failed, message: err.message };
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof BatchIdRefused)
    return { code: EXIT.usage, message: err.message };
  if (err instanceof NotFound) return { code: EXIT.notFound, message: err.message };
  if (err instanceof WorkflowUpdateFailedError)
    return { code: EXIT.failed, message: `refused: ${(err.cause as Error)?.message ?? err.message}` };
  // A failed workflow's own message is generic ("Activity task failed"): the deepest cause says what happened.
  let root = err as Error;
  while ((root?.cause as Error | undefined)?.message) root = root.cause as Error;
  // Temporal's own answer without the gRPC wrapping ("9 FAILED_PRECONDITION: ...").
  if (isGrpcServiceError(root)) return { code: EXIT.failed, message: `Temporal refused the call: ${root.details}` };
  const e = err as Error;
  return { code: EXIT.failed, message: root === e ? String(e?.message ?? err) : `${e.message}: ${root.message}` };
}
