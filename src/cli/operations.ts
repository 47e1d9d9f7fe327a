import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowHandle,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { AppConfig } from '../config';
import { commandOrigin } from '../host/command-origin';
import { recordWorkflows, type WaitingRecord } from '../temporal/record-workflows';
import { batchSummary, planSummary } from '../contracts/workflow-descriptions';
import { PLAN_WORKFLOW_TYPE, type PlanInput, type PlanSummary, planWorkflowId } from '../contracts/plan-messages';
import {
  approveUpdate,
  BATCH_ID_PATTERN,
  BATCH_WORKFLOW_TYPE,
  BatchDecision,
  batchWorkflowId,
  BatchInput,
  type BatchSummary,
  rejectUpdate,
  type RevertRequest,
  revertSource,
} from '../contracts/batch-messages';
import {
  cancelUpdate,
  forceUpdate,
  OperatorDecision,
  recordWorkflowId,
  RecordStatus,
  phaseOf,
  statusQuery,
  RecordPhase,
} from '../contracts/record-messages';

/** What operators and the CLI do with workflows, in one place. */

export function newBatchId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

/** A batch id that cannot be used: malformed, or taken by an earlier batch (whose state and report it names). */
export class BatchIdRefused extends Error {}

/**
 * Starts a batch or a plan under an id used by no earlier one: a rerun is a new batch, never a replay of an old
 * one's state. (A plan and a batch never share an id either: the store refuses the second.)
 */
async function startOnce<I, R>(
  client: Client,
  config: AppConfig,
  what: 'batch' | 'plan',
  start: { type: string; id: string; workflowId: string; input: I; summary: string },
) {
  if (!BATCH_ID_PATTERN.test(start.id))
    throw new BatchIdRefused(
      `invalid ${what} id ${JSON.stringify(start.id)}: use up to 100 letters, digits, '.', '_' or '-'`,
    );
  try {
    return await client.workflow.start<(input: I) => Promise<R>>(start.type, {
      taskQueue: config.temporal.controlTaskQueue,
      workflowId: start.workflowId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [start.input],
      staticSummary: start.summary,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new BatchIdRefused(`${what} id ${start.id} is already used (capa-sync report ${start.id}); choose another`);
    throw err;
  }
}

export function startBatch(client: Client, config: AppConfig, input: BatchInput & { batchId: string }) {
  return startOnce<BatchInput, BatchSummary>(client, config, 'batch', {
    type: BATCH_WORKFLOW_TYPE,
    id: input.batchId,
    workflowId: batchWorkflowId(config.vault.object, input.batchId),
    input,
    summary: batchSummary(input.batchId, input.source),
  });
}

/**
 * Starts a revert: a batch that restores what batch `revert.of` wrote, from the audit trail, saying who asks, why,
 * and where the command ran.
 */
export function startRevert(
  client: Client,
  config: AppConfig,
  input: { batchId: string; startedBy: string; revert: Omit<RevertRequest, 'origin'> },
) {
  const revert = { ...input.revert, origin: senderOf(client) };
  return startBatch(client, config, { ...input, source: revertSource(revert.of), revert });
}

/** Starts a plan: a dry run of a batch. */
export function startPlan(client: Client, config: AppConfig, input: PlanInput) {
  return startOnce<PlanInput, PlanSummary>(client, config, 'plan', {
    type: PLAN_WORKFLOW_TYPE,
    id: input.planId,
    workflowId: planWorkflowId(config.vault.object, input.planId),
    input,
    summary: planSummary(input.planId, input.source),
  });
}

/** A running batch workflow, and where the approval gate has it (CapaBatchState; absent: not held). */
export interface RunningBatch {
  batchId: string;
  workflowId: string;
  approval: string;
  startTime: string;
}

export async function listBatches(client: Client, config: AppConfig): Promise<RunningBatch[]> {
  const query = `WorkflowType = "${BATCH_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"`;
  const batches: RunningBatch[] = [];
  const prefix = batchWorkflowId(config.vault.object, '');
  for await (const wf of client.workflow.list({ query })) {
    if (!wf.workflowId.startsWith(prefix)) continue;
    const sa = wf.searchAttributes as Record<string, string[] | undefined>;
    batches.push({
      batchId: wf.workflowId.slice(prefix.length),
      workflowId: wf.workflowId,
      approval: sa.CapaBatchState?.[0] ?? '-',
      startTime: wf.startTime.toISOString(),
    });
  }
  return batches;
}

/** Where a decision's command runs, beside the operator it declares: what its audit entry attributes it to. */
const senderOf = (client: Client) => ({ ...commandOrigin(), client: client.options.identity });

/**
 * Approves or rejects a batch the gate holds (an Update its validator may refuse), saying where the command ran and
 * waiting out passing conditions as a record's decision does.
 */
export async function decideBatch(
  client: Client,
  config: AppConfig,
  kind: 'approve' | 'reject',
  batchId: string,
  decision: BatchDecision,
  onWait: (message: string) => void = () => undefined,
): Promise<string> {
  const handle = client.workflow.getHandle(batchWorkflowId(config.vault.object, batchId));
  const update = kind === 'approve' ? approveUpdate : rejectUpdate;
  try {
    return await deliverUpdate(
      config,
      handle,
      update,
      { ...decision, origin: senderOf(client) },
      {
        what: `the ${kind}`,
        to: `batch ${batchId}'s workflow`,
        check: 'capa-sync list --batches shows where the gate has it',
        onWait,
      },
    );
  } catch (err) {
    // The server answers "not found" for a workflow that has ended: say so instead.
    const ended = err instanceof WorkflowNotFoundError && (await handle.describe().catch(() => undefined));
    if (ended) throw new Error(`refused: batch ${batchId} has ended (${ended.status.name.toLowerCase()})`);
    throw err;
  }
}

/** The record workflows to list, from Temporal visibility (what the Web UI shows): by phase (else the running ones), by team or lock holder. */
export function listRecords(
  client: Client,
  config: AppConfig,
  filter: { phase?: RecordPhase; team?: string; holder?: string } = {},
): Promise<WaitingRecord[]> {
  return recordWorkflows(client, { object: config.vault.object, ...filter, running: !filter.phase });
}

const recordHandle = (client: Client, config: AppConfig, recordId: string) =>
  client.workflow.getHandle(recordWorkflowId(config.vault.object, recordId));

/**
 * The execution status of a record's workflow (RUNNING, COMPLETED...), or undefined where it never existed: the
 * server answers "not found" both for that and for a workflow in no state to answer, and this tells them apart.
 */
const statusOf = (handle: ReturnType<typeof recordHandle>): Promise<string | undefined> =>
  handle.describe().then(
    (d) => d.status.name,
    () => undefined,
  );

export async function recordStatus(client: Client, config: AppConfig, recordId: string): Promise<RecordStatus> {
  const handle = recordHandle(client, config, recordId);
  try {
    return await handle.query(statusQuery);
  } catch (err) {
    // A query can fail as "not found" for a workflow whose first task has not run yet: tell the two apart.
    if (err instanceof WorkflowNotFoundError && (await statusOf(handle)) !== undefined) {
      throw new Error(`record ${recordId}: its workflow has not started running yet, try again in a moment`);
    }
    throw err;
  }
}

/** A decision that did not reach the record's workflow: says why, and whether it took effect. */
export class DecisionNotDelivered extends Error {}

/** gRPC's status codes (as Temporal's frontend answers them). */
const GRPC = { DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

/** A Temporal answer that passes on its own, in words, and whether the decision may have reached the workflow. */
interface PassingCondition {
  what: string;
  mayHaveTakenEffect: boolean;
}

const TIMED_OUT: PassingCondition = { what: 'the call to Temporal timed out', mayHaveTakenEffect: true };
const CONDITIONS: Record<number, PassingCondition> = {
  [GRPC.FAILED_PRECONDITION]: { what: "the record's workflow task is failing", mayHaveTakenEffect: false },
  [GRPC.UNAVAILABLE]: { what: 'Temporal is unavailable', mayHaveTakenEffect: false },
  [GRPC.RESOURCE_EXHAUSTED]: { what: 'Temporal is busy', mayHaveTakenEffect: false },
  [GRPC.DEADLINE_EXCEEDED]: TIMED_OUT,
};

/**
 * Temporal answers that pass on their own: the workflow's task failing for now (a worker restarting, a bug being
 * rolled back), the server unavailable or busy, a call that timed out; undefined for any other answer.
 */
function passingCondition(err: unknown): PassingCondition | undefined {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return TIMED_OUT;
  const cause = (err as Error)?.cause;
  return isGrpcServiceError(cause) ? CONDITIONS[cause.code] : undefined;
}

/**
 * Sends a decision as an Update, waiting out passing conditions for up to CAPA_DECISION_WAIT_SECONDS (`onWait` is
 * told once). Each retry carries the same update id, so Temporal applies the decision at most once.
 */
async function deliverUpdate<A>(
  config: AppConfig,
  handle: WorkflowHandle,
  update: UpdateDefinition<string, [A]>,
  arg: A,
  say: { what: string; to: string; check: string; onWait: (message: string) => void },
): Promise<string> {
  const updateId = randomUUID();
  const deadline = Date.now() + config.decisionWaitMs;
  let waiting: PassingCondition | undefined;
  for (;;) {
    try {
      return await handle.executeUpdate(update, { args: [arg], updateId });
    } catch (err) {
      const condition = passingCondition(err);
      if (!condition) throw err;
      const seconds = Math.round(config.decisionWaitMs / 1000);
      if (waiting !== condition) say.onWait(`${condition.what}; waiting for it to pass (at most ${seconds} s)...`);
      if (Date.now() > deadline) {
        throw new DecisionNotDelivered(
          `${say.what} did not reach ${say.to} within ${seconds} s (${condition.what}): ` +
            (condition.mayHaveTakenEffect
              ? `it may have taken effect; ${say.check}`
              : 'it did not take effect; try again once the workflow runs (see it in the Web UI)'),
        );
      }
      waiting = condition;
      await sleep(2_000);
    }
  }
}

/** Sends an operator's force or cancel to a record's workflow (see deliverUpdate), saying where the command ran. */
export async function decide(
  client: Client,
  config: AppConfig,
  kind: 'force' | 'cancel',
  recordId: string,
  decision: OperatorDecision,
  onWait: (message: string) => void = () => undefined,
): Promise<string> {
  const handle = recordHandle(client, config, recordId);
  try {
    return await deliverUpdate(
      config,
      handle,
      kind === 'force' ? forceUpdate : cancelUpdate,
      {
        ...decision,
        origin: senderOf(client),
      },
      {
        what: `the ${kind}`,
        to: `record ${recordId}'s workflow`,
        check: `capa-sync status ${recordId} lists the decisions`,
        onWait,
      },
    );
  } catch (err) {
    // The server answers "not found" for a workflow that has already ended: say how it ended instead.
    const status = err instanceof WorkflowNotFoundError ? await statusOf(handle) : undefined;
    if (status === undefined || status === 'RUNNING') throw err;
    const ended = status === 'COMPLETED' ? phaseOf(await handle.result()) : status.toLowerCase();
    throw new Error(`refused: record ${recordId} is already ${ended}`);
  }
}
