import { defineSignal } from '@temporalio/workflow';
import type { RecordSnapshot, Tick } from './record-activities';

// The lock watcher: one workflow per object that reads the state of every waiting record on each tick, in queries
// of 1,000 ids, and tells only the records whose state changed. Waiting records then cost no workflow task a tick.
// Its word is a trigger, never the conflict guard's evidence: a record told of an unlock reads again as it writes.

export const LOCK_WATCHER_TYPE = 'capaLockWatcherWorkflow';
export const lockWatcherId = (object: string) => `capa-lock-watcher:${object}`;

export interface LockWatcherInput {
  object: string;
  /** Seconds between ticks (CAPA_TICK_SECONDS' first interval), aligned to the wall clock. */
  tickSeconds: number;
}

/**
 * What the watcher tells a waiting record whose Vault state changed since it last told it: only a trigger. The
 * record reads Vault again, in the same activity as its write (guardedWrite), before it writes anything.
 */
export interface LockNews {
  tickAt: number;
  /** The watcher activity's attempt that read it: a retried tick's word replaces its failed attempt's. */
  attempt?: number;
  /** False: the record is gone from Vault. */
  found: boolean;
  state?: string;
  /** Locked by its state, or (customer dialect) by the lock endpoint. */
  locked: boolean;
  lockedBy?: string;
  /** When the lock endpoint says the holder took it. */
  lockedSince?: string;
}

/** The watcher's word before GUARDED_WRITES: a read that the record wrote on. */
export interface LockChange {
  snapshot: RecordSnapshot;
  tick: Tick;
}

export const isLockNews = (change: LockNews | LockChange): change is LockNews => !('snapshot' in change);

export const lockChangedSignal = defineSignal<[LockNews | LockChange]>('lockChanged');

/**
 * The watcher continues as new on this task queue after its tick. A worker sends it at its start to a watcher running
 * on the worker's record workflow queue (where releases before the control queue started it), naming its control queue.
 */
export const moveWatcherSignal = defineSignal<[string]>('moveTo');

export interface WatchActivities {
  /**
   * One tick of an object's lock watcher: lists the waiting records from the store, reads their states in queries of
   * 1,000 ids, and tells only those whose state changed since it last told them (gone, unlocked, another lock). A
   * record whose lock endpoint fails is passed over this tick (logged and counted); the others are read and told.
   * Unlocks are told as the workers settle those told before (CAPA_WATCH_WINDOW at most in flight).
   */
  watchLocks(input: { object: string; tickAt: number; tickSeconds: number }): Promise<{
    waiting: number;
    told: number;
    unlocked: number;
    /** Records passed over this tick (their lock endpoint failed, or a signal did). */
    skipped?: number;
    /** Unlocked records left to the next tick: the tick's time ran out while the workers wrote those told before. */
    deferred?: number;
  }>;
}

/**
 * A record the watcher read within this many of its intervals, and a minute more (a tick's own reads and signals
 * take seconds), need not read Vault itself when its timer wakes it.
 */
export const WATCHER_HEALTHY_TICKS = 3;
export const WATCHER_SLACK_SECONDS = 60;
