import type { AuditAnchor } from './audit-anchor';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DecisionOrigin } from './decisions';

export const batchWorkflowId = (object: string, batchId: string) => `capa-batch:${object}:${batchId}`;
export const BATCH_WORKFLOW_TYPE = 'capaBatchWorkflow';

/** A batch id names a folder and a workflow as it is: letters, digits, dot, dash and underscore, nothing else. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What happened to one input row; every row ends in exactly one of these. */
export const ROW_OUTCOMES = ['updated', 'unchanged', 'waiting', 'failed', 'rejected', 'superseded'] as const;
export type RowOutcome = (typeof ROW_OUTCOMES)[number];
export type OutcomeCounts = Record<RowOutcome, number>;

/** What happened to one input row, as the store keeps it and the report shows it. */
export interface RowResult {
  row: number;
  outcome: RowOutcome;
  recordId?: string;
  workflowId?: string;
  vaultState?: string;
  field?: string;
  errorType?: string;
  message?: string;
  /** What the record workflow finally did with a waiting row (applied, cancelled, failed, replaced by batch ...). */
  resolution?: string;
}

export const zeroCounts = (): OutcomeCounts => ({
  updated: 0,
  unchanged: 0,
  waiting: 0,
  failed: 0,
  rejected: 0,
  superseded: 0,
});

export interface BatchInput {
  /** A file path (CSV, JSON, JSON Lines) or an http(s) URL returning JSON. */
  source: string;
  /** Defaults to the last part of the workflow id (a schedule appends the start time there). */
  batchId?: string;
  /** Pages processed by one run before it continues as new (default 200). */
  pagesPerRun?: number;
  /** Who started it (`account@host`, from the CLI): an approval must come from someone else. Absent for the Schedule. */
  startedBy?: string;
  /** Present for `capa-sync revert`: the batch restores what another batch wrote, from the audit trail. */
  revert?: RevertRequest;
  /** Set only by continue-as-new. */
  carried?: BatchProgress;
}

/** What `capa-sync revert` asks: restore the values batch `of` wrote (on these records only, where given). */
export interface RevertRequest {
  of: string;
  operator: string;
  reason: string;
  records?: string[];
  origin?: Omit<DecisionOrigin, 'via'>;
}

/** The source a revert batch names in its reports and the Web UI. */
export const revertSource = (of: string) => `revert of batch ${of}`;

/** An approver's decision on a batch held by the gate. */
export interface BatchDecision {
  operator: string;
  reason: string;
  origin?: Omit<DecisionOrigin, 'via'>;
}

export interface BatchApproval {
  /** Why the gate held the batch. */
  findings: string[];
  decision?: BatchDecision & { kind: 'approve' | 'reject'; at: string; auditAnchor?: AuditAnchor };
}

export const approveUpdate = defineUpdate<string, [BatchDecision]>('approve');
export const rejectUpdate = defineUpdate<string, [BatchDecision]>('reject');

export interface BatchProgress {
  batchId: string;
  sourceTimestamp: string;
  phase: 'preparing' | 'planning' | 'awaiting-approval' | 'applying' | 'handing-off' | 'reporting' | 'done';
  inputRows: number;
  pages: number;
  /** Pages whose records' states are read for the approval gate. */
  pagesPlanned: number;
  /** Present when the gate held the batch. */
  approval?: BatchApproval;
  /** Pages whose unlocked records are written. */
  pagesDone: number;
  /** Pages whose locked records are handed to their record workflows. */
  pagesHandedOff: number;
  counts: OutcomeCounts;
  runs: number;
}

export interface BatchReportFiles {
  json: string;
  successCsv: string;
  waitingCsv: string;
  failureCsv: string;
}

export interface BatchSummary {
  batchId: string;
  inputRows: number;
  counts: OutcomeCounts;
  ignoredColumns: string[];
  reports: BatchReportFiles;
  /** The audit chain's head signed at the batch's end: in the workflow's result, report.json and the digest. */
  auditAnchor?: AuditAnchor;
}

export const progressQuery = defineQuery<BatchProgress>('progress');
