import type { BatchSummary, OutcomeCounts, RevertRequest } from './batch-messages';
import type { PlanSummary } from './plan-messages';
import type { AuditAnchor } from './audit-anchor';
import type { DecisionOrigin } from './decisions';

export interface BatchDecisionInput {
  batchId: string;
  decision: 'approve' | 'reject';
  operator: string;
  reason: string;
  origin: DecisionOrigin;
  outcome: string;
}

export interface PreparedSummary {
  inputRows: number;
  pages: number;
  rejected: number;
  superseded: number;
}

/** The activities the batch workflow calls; rows stay in the store, only counts travel through history. */
export interface BatchActivities {
  /**
   * Loads and validates the source into the store; a plan's rows are kept apart from the batches' (`kind`). A
   * revert's rows come from the audit trail instead: what the reverted batch wrote, record by record.
   */
  prepareBatch(input: {
    batchId: string;
    source: string;
    kind?: 'plan';
    revert?: RevertRequest;
  }): Promise<PreparedSummary>;
  /**
   * A revert's first step: the reverted batch must have finished; its record workflows still waiting to write its
   * values are cancelled (each with its audit entry), and the revert itself is audited with who asked and why.
   */
  beginRevert(input: { batchId: string; revert: RevertRequest }): Promise<{ cancelled: number }>;
  /** Reads states and bulk-writes a page's unlocked records; sets its locked ones aside. */
  applyPage(input: { batchId: string; page: number; sourceTimestamp: string }): Promise<OutcomeCounts>;
  /** Hands a page's locked (and raced, and already waiting) records to their record workflows. */
  handOffPage(input: { batchId: string; page: number; sourceTimestamp: string }): Promise<OutcomeCounts>;
  finishBatch(input: { batchId: string }): Promise<BatchSummary>;
  /** Tells the operators that a batch failed before any row was applied, and why. */
  alertBatchFailed(input: { batchId: string; source: string; reason: string }): Promise<void>;
  /** A plan's page: reads the states as applyPage does and notes what each row would do; writes nothing to Vault. */
  planPage(input: { batchId: string; page: number }): Promise<void>;
  /**
   * The approval gate, on a batch whose pages are planned: why it is unusual (nothing: it writes now), with its plan's
   * report files, an alert saying how to decide when it is held, and how long it may wait for a decision.
   */
  checkGate(input: { batchId: string }): Promise<{ findings: string[]; timeoutSeconds: number }>;
  /** An approver's (or the time-out's) decision on a held batch, in the audit trail; signs the chain's head. */
  recordBatchDecision(input: BatchDecisionInput): Promise<AuditAnchor>;
  /** A rejected batch: its valid rows fail, unwritten, with the reason; an alert says so. */
  rejectBatch(input: { batchId: string; reason: string }): Promise<OutcomeCounts>;
  /** Writes the plan's report files (plan.json, plan.csv, plan.html) and returns its summary. */
  finishPlan(input: { batchId: string }): Promise<PlanSummary>;
}
