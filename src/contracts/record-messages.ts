// contracts/: the shapes every layer agrees on: workflow inputs, messages and results, activity interfaces, search
// attributes, field values and the pure rules about them (the conflict guard, a row's action). Imports nothing of capa-
// sync's but itself, so workflow code may use all of it.

import type { LockChange, LockNews } from './lock-watch';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AuditAnchor } from './audit-anchor';
import type { DecisionOrigin } from './decisions';
import type { FieldValues } from './field-values';

/** The record workflow's phase in the process (its `CapaSyncState` search attribute); Vault's own is `vaultState`. */
export const RECORD_PHASES = [
  'waiting-for-unlock',
  'applying',
  'needs-decision',
  'applied',
  'cancelled',
  'failed',
] as const;
export type RecordPhase = (typeof RECORD_PHASES)[number];
export const TERMINAL_PHASES: readonly RecordPhase[] = ['applied', 'cancelled', 'failed'];

export const recordWorkflowId = (object: string, recordId: string) => `capa-sync:${object}:${recordId}`;

/** The record workflow's type name and signature, for code that starts it without importing workflow code. */
export const RECORD_WORKFLOW_TYPE = 'capaRecordWorkflow';
export type RecordWorkflowType = (input: RecordWorkflowInput) => Promise<unknown>;

/** An operator's force or cancel: who declares it and why, and (from the CLI) where the command ran. */
export interface OperatorDecision {
  operator: string;
  reason: string;
  origin?: Omit<DecisionOrigin, 'via'>;
}

export interface DecisionRecord extends OperatorDecision {
  kind: 'force' | 'cancel';
  at: string;
  result: string;
  /** The audit chain's head signed after the decision's entry: kept in this workflow's history and result. */
  auditAnchor?: AuditAnchor;
}

/** What a record workflow ends with. */
export interface RecordWorkflowResult {
  recordId: string;
  phase: RecordPhase;
  attempts: number;
  decisions: DecisionRecord[];
}

/** The phase a record workflow ended in; runs that ended before the field's rename carry it as `state`. */
export const phaseOf = (result: RecordWorkflowResult | { state: RecordPhase }): RecordPhase =>
  'phase' in result ? result.phase : result.state;

/** Newer values for a waiting record, from a later batch. */
export interface DesiredValues {
  desired: FieldValues;
  /** The Vault values that batch saw; used only for fields this workflow did not already track. */
  baseline: FieldValues;
  sourceTimestamp: string;
  batchId: string;
  /** The team that batch found responsible for the record (absent from batches before routing). */
  routing?: RecordRouting;
}

/** A step of a team's escalation ladder: this long after the record was locked (by this holder, in this state). */
export interface LadderStep {
  afterSeconds: number;
  /** remind: the team again; escalate: the team's escalation contact too. */
  step: 'remind' | 'escalate';
}

/** The team responsible for a record and its escalation ladder, as the routing file said when a batch read it. */
export interface RecordRouting {
  team: string;
  ladder: LadderStep[];
}

/** The lock the escalation ladder climbs; a new holder or state starts it again. */
export interface LockHold {
  state?: string;
  holder?: string;
  /** When the holder took it (the lock endpoint's locked_since), else when capa-sync first saw it. */
  since: number;
  /** How many of the ladder's steps were sent for this hold. */
  stepsSent: number;
  /** When the ladder last asked the lock endpoint who holds it. */
  checkedAt?: number;
  /** Nobody answered who holds it (no lock endpoint): the ladder asks no more once its steps are sent. */
  holderUnknown?: boolean;
}

export interface RecordWorkflowOptions {
  /** Tick intervals in seconds, each dividing the next, so that all waiting records poll at the same moments. */
  tickScheduleSeconds: number[];
  /** Ticks spent on each interval before backing off to the next. */
  ticksPerStep: number;
  maxWaitSeconds: number;
  /** While the lock watcher ticks, a waiting record wakes by itself only this often (to see that it still does). */
  safetyCheckSeconds: number;
  /** Continue-as-new once a run's history has this many events (or when Temporal suggests it). */
  historyEventLimit: number;
  activityMaxIntervalSeconds: number;
}

export const DEFAULT_RECORD_OPTIONS: RecordWorkflowOptions = {
  tickScheduleSeconds: [300, 900, 1800, 3600],
  ticksPerStep: 12,
  maxWaitSeconds: 30 * 24 * 3600,
  safetyCheckSeconds: 6 * 3600,
  historyEventLimit: 1000,
  activityMaxIntervalSeconds: 300,
};

export interface RecordWorkflowInput extends DesiredValues {
  object: string;
  recordId: string;
  options: RecordWorkflowOptions;
  /** The Vault state the batch saw (until the record's first read: the watcher may do all its reading). */
  vaultState?: string;
  /**
   * The batch read the record locked a moment before and hands it to the object's lock watcher (started or found
   * running; the hand-off notes the read for it as it saves the record waiting): the run's first check has nothing to
   * read, the watcher tells the record when the state changes.
   */
  handedToWatcher?: boolean;
  /** Set only by continue-as-new. */
  carried?: CarriedState;
}

export type NeedsDecisionReason = 'conflict' | 'max-wait';

/** Why a record waits for an operator: the fields a reviewer changed, and what Vault held then. */
export interface NeedsDecision {
  reason: NeedsDecisionReason;
  fields: string[];
  now?: FieldValues;
}

/** Everything a run hands to the next one on continue-as-new. */
export interface CarriedState {
  phase: RecordPhase;
  desired: FieldValues;
  baseline: FieldValues;
  sourceTimestamp: string;
  batchId: string;
  vaultState?: string;
  lockedBy?: string;
  /** The record's team; absent for runs handed over before routing. */
  routing?: RecordRouting;
  /** The lock as the ladder counts it (absent while unlocked). */
  hold?: LockHold;
  needsDecision?: NeedsDecision;
  waitingSince: number;
  lastCheck?: number;
  nextCheck?: number;
  /** The object's lock watcher reads this record's state on its ticks (as last seen): it wakes only when told. */
  watched?: boolean;
  /** What the watcher last told, not yet acted on (a trigger). */
  told?: LockNews;
  /** The newest watcher tick (and attempt) the record was told of: an older one's word that arrives later is dropped. */
  toldTick?: { at: number; attempt: number };
  /** Before GUARDED_WRITES: what the watcher last told, with its read. */
  lockChange?: LockChange;
  /** Check at once, without the watcher's word: new values to write, or newer values came during a write. */
  recheck?: boolean;
  attempts: number;
  decisions: DecisionRecord[];
  pending: PendingOperation[];
  alertsSent: Record<string, number>;
  operationSeq: number;
  runs: number;
}

export interface PendingOperation extends OperatorDecision {
  id: number;
  kind: 'force' | 'cancel';
  via: DecisionOrigin['via'];
}

export interface RecordStatus {
  workflowId: string;
  object: string;
  recordId: string;
  phase: RecordPhase;
  vaultState?: string;
  lockedBy?: string;
  /** When the lock was taken, or first seen. */
  lockedSince?: string;
  team?: string;
  /** The escalation ladder's next step for this lock, and when it is due. */
  nextEscalation?: { step: LadderStep['step']; at: string };
  needsDecision?: NeedsDecision;
  desired: FieldValues;
  baseline: FieldValues;
  sourceTimestamp: string;
  batchId: string;
  waitingSince: string;
  lastCheck?: string;
  nextCheck?: string;
  /** Read by the lock watcher on its ticks (nextCheck is then its safety check). */
  watched?: boolean;
  attempts: number;
  decisions: DecisionRecord[];
  runs: number;
}

export const forceUpdate = defineUpdate<string, [OperatorDecision]>('force');
export const cancelUpdate = defineUpdate<string, [OperatorDecision]>('cancel');
export const forceSignal = defineSignal<[OperatorDecision]>('force');
export const cancelSignal = defineSignal<[OperatorDecision]>('cancel');
export const setDesiredValuesSignal = defineSignal<[DesiredValues]>('setDesiredValues');
export const statusQuery = defineQuery<RecordStatus>('status');
