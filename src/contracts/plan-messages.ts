import type { FieldValues } from './field-values';

/** What a plan says a row would do, were the batch run now. */
export const PLANNED_ACTIONS = [
  'update',
  'unchanged',
  'wait',
  'already-waiting',
  'not-found',
  'changed-since',
] as const;
export type PlannedAction = (typeof PLANNED_ACTIONS)[number];

/** What a row would do, with what Vault holds now (its state, and the values of the fields the row sets). */
export interface PlannedRow {
  row: number;
  planned: PlannedAction;
  vaultState?: string;
  before?: FieldValues;
}

/** A plan's rows: the valid ones by action, and those the batch would refuse or supersede. */
export type PlanCounts = Record<PlannedAction | 'rejected' | 'superseded', number>;

/** One row of a plan as the plan report lists it and the approval gate counts it. */
export interface PlanResult {
  row: number;
  recordId?: string;
  action: keyof PlanCounts;
  vaultState?: string;
  before?: FieldValues;
  values?: FieldValues;
  field?: string;
  message?: string;
}

/**
 * The approval gate's figures of a page's plan, kept with the page; a batch's are its pages' added up. Per field: the
 * rows that set it, change it and empty it, and (picklist fields only) how many rows set each value.
 */
export interface GateTally {
  changedRecords: number;
  fields: Record<string, { set: number; changed: number; emptied: number; values: Record<string, number> }>;
}

export const zeroPlanCounts = (): PlanCounts => ({
  update: 0,
  unchanged: 0,
  wait: 0,
  'already-waiting': 0,
  'not-found': 0,
  'changed-since': 0,
  rejected: 0,
  superseded: 0,
});

export const planWorkflowId = (object: string, planId: string) => `capa-plan:${object}:${planId}`;
export const PLAN_WORKFLOW_TYPE = 'capaPlanWorkflow';

export interface PlanInput {
  source: string;
  planId: string;
}

export interface PlanReportFiles {
  json: string;
  csv: string;
  html: string;
}

export interface PlanSummary {
  planId: string;
  source: string;
  inputRows: number;
  counts: PlanCounts;
  reports: PlanReportFiles;
}
