import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import {
  type DefineCommand,
  EXIT,
  json,
  type JsonOption,
  NotFound,
  output,
  required,
  UsageError,
  withClient,
  withStore,
} from './command-line';
import { newBatchId, startBatch, startPlan, startRevert } from './operations';
import { commandOrigin } from '../host/command-origin';
import { followBatch, planTable, summaryTable } from './batch-output';
import { writeBatchReport } from '../reports/batch-report';
import { isUrl, localSourceFile } from '../sources/read-source';
import type { Store } from '../store/store';
import type { BatchRecord } from '../store/batch-store';
import { writePlanReport } from '../change-control/plan-report';
import { revertRefusal } from '../change-control/revert';
import type { BatchSummary } from '../contracts/batch-messages';
import { workflowResult } from '../temporal/workflow-result';

// The batch commands: run a batch, revert one, plan one (a dry run), and write a batch's report from the store.

export interface RunOptions extends JsonOption {
  source?: string;
  batchId?: string;
  out?: string;
  detach?: boolean;
}
export interface RevertOptions extends JsonOption {
  operator?: string;
  reason?: string;
  record?: string[];
  batchId?: string;
  out?: string;
}
export interface PlanOptions extends JsonOption {
  source?: string;
  planId?: string;
  out?: string;
}
export interface ReportOptions extends JsonOption {
  out?: string;
  plan?: boolean;
}

export function registerBatchCommands(command: DefineCommand): void {
  runCommand(command);
  revertCommand(command);
  planCommand(command);
  reportCommand(command);
}

function runCommand(command: DefineCommand): void {
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
}

function revertCommand(command: DefineCommand): void {
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
}

function planCommand(command: DefineCommand): void {
  command(
    'plan',
    'a dry run of a batch on the live vault (needs a running worker): what each row would do, each field old -> new; writes nothing to Vault',
    async (config, o: PlanOptions) => {
      const given = required(o.source, '--source');
      return withClient(config, async (client) => {
        const planId = o.planId ?? `plan-${newBatchId()}`;
        const handle = await startPlan(client, config, { source: await batchSource(config, given), planId });
        await workflowResult(handle);
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
}

function reportCommand(command: DefineCommand): void {
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
