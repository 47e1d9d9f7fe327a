import type { FieldValue, FieldValues } from './field-values';
import type { WriteOutcome } from './write-outcome';
import type { AuditAnchor } from './audit-anchor';
import type { DecisionOrigin } from './decisions';

/**
 * The wall-clock tick a read polls at. Before GUARDED_WRITES (runs started earlier replay it) also the watcher's tick
 * a write belonged to: how many writes would come for it, and the worker process that grouped them.
 */
export interface Tick {
  at: number;
  expected?: number;
  taskQueue?: string;
}

/** Who a write is made for: the nightly integration, or an operator who forced it. */
export type Actor = { kind: 'integration' } | { kind: 'operator'; operator: string; reason: string };

export interface RecordSnapshot {
  found: boolean;
  state?: string;
  values: FieldValues;
  locked: boolean;
  lockedBy?: string;
}

/**
 * A read that asked `unlessWatched` where the lock watcher ticks for the object: nothing was read. (Answers recorded
 * before this type also carry `found`, `values` and `locked`; `watched` alone decides.)
 */
export interface NotRead {
  watched: true;
}
export const wasRead = (r: RecordSnapshot | NotRead): r is RecordSnapshot => !('watched' in r && r.watched);

export interface ApplyChangeInput {
  object: string;
  recordId: string;
  workflowId: string;
  values: FieldValues;
  previous: FieldValues;
  batchId: string;
  /** When the risk system produced the values (recorded in the audit trail). */
  sourceTimestamp: string;
  actor: Actor;
}

/**
 * A waiting record's write: read Vault, run the conflict guard (for the integration; an operator's force passes it)
 * and write, in one activity, seconds apart at most. The records that come within a short window share the read and
 * the bulk update, and their audit entries are stored together.
 */
export interface GuardedWriteInput {
  object: string;
  recordId: string;
  batchId: string;
  /** The values to write, and those the batch saw (the guard's baseline). */
  desired: FieldValues;
  baseline: FieldValues;
  sourceTimestamp: string;
  /** capa-sync's own writes since this time are not a reviewer's edit (see ownWrites). */
  ownWritesSince: string;
  actor: Actor;
  /**
   * A timer woke the record: read nothing where the lock watcher read it since this time (ms), or where the read the
   * run began with (`ownReadAt`, ms: the batch's, before any of the run's own) is as recent and the watcher ticks.
   */
  unlessReadSince?: number;
  ownReadAt?: number;
}

export type GuardedWriteResult =
  /** The watcher read the record lately: nothing was read here. */
  | { status: 'watched' }
  | { status: 'not-found' }
  | { status: 'locked'; state: string; lockedBy?: string; lockedSince?: string }
  /** A person changed these fields since the batch saw them: nothing was written. */
  | { status: 'conflict'; state: string; fields: string[]; values: FieldValues }
  /**
   * Vault holds the values now: `changed` where this write changed any. `stale`: fields left out because Vault holds
   * a newer value capa-sync wrote itself.
   */
  | { status: 'written'; state: string; changed: boolean; stale: string[] }
  | { status: 'permanent'; state: string; errorType?: string; message?: string };

/** The newest value capa-sync wrote to a field, from the audit trail. */
export interface OwnWrite {
  value: FieldValue;
  sourceTimestamp?: string;
}

export interface LockHolder {
  locked: boolean;
  lockedBy?: string;
  lockedSince?: string;
}

/** Why a record alert is sent: a decision it waits for, a failure, or a step of its team's escalation ladder. */
export type RecordAlertReason =
  'conflict' | 'max-wait' | 'permanent-failure' | 'not-found' | 'lock-reminder' | 'lock-escalation';

export interface RecordAlert {
  reason: RecordAlertReason;
  object: string;
  recordId: string;
  workflowId: string;
  vaultState?: string;
  lockedBy?: string;
  batchId: string;
  detail: string;
  /** The record's team (the default team where absent). */
  team?: string;
}

/** An operator's decision on the record, for the audit trail, with what it did. */
export interface DecisionInput {
  object: string;
  recordId: string;
  workflowId: string;
  batchId: string;
  decision: 'force' | 'cancel';
  operator: string;
  reason: string;
  origin: DecisionOrigin;
  outcome: string;
  /** The values the decision concerned (forced into Vault, or dropped). */
  values: FieldValues;
  sourceTimestamp: string;
}

/** The activities the record workflow calls; implemented in record-activities.ts. */
export interface RecordActivities {
  /**
   * `tick`: the wall-clock tick this read polls at, or the watcher's tick that told it to read (absent for other
   * reads), so that a tick's reads merge. `unlessWatched`: read nothing where the lock watcher ticks for the object.
   */
  readRecord(input: {
    object: string;
    recordId: string;
    fields: string[];
    tick?: Tick;
    unlessWatched?: boolean;
  }): Promise<RecordSnapshot | NotRead>;
  /** Read, guard and write together (see GuardedWriteInput). */
  guardedWrite(input: GuardedWriteInput): Promise<GuardedWriteResult>;
  /** Before GUARDED_WRITES (runs started earlier): a write of values read by an earlier activity, guarded again. */
  applyChange(input: ApplyChangeInput & { tick?: Tick }): Promise<WriteOutcome>;
  sendRecordAlert(alert: RecordAlert): Promise<void>;
  /**
   * Who holds the record's lock now, from the lock endpoint (the escalation ladder asks before each step); none where
   * the dialect has no lock endpoint, or it did not answer.
   */
  readLockHolder(input: { object: string; recordId: string }): Promise<LockHolder | undefined>;
  /** Appends the decision to the audit trail and signs the chain's head after it. */
  recordDecision(input: DecisionInput): Promise<AuditAnchor>;
  /** Notes in the store what the record workflow finally did with the batch rows handed to it. */
  settleRecord(input: {
    workflowId: string;
    batchId: string;
    resolution: string;
    object?: string;
    recordId?: string;
  }): Promise<void>;
  /** The newest value capa-sync wrote to each of the fields since the given time, from the audit trail. */
  lastOwnWrites(input: {
    object: string;
    recordId: string;
    fields: string[];
    since: string;
  }): Promise<Record<string, OwnWrite>>;
}
