import { defineSignal } from '@temporalio/workflow';
import type { RecordSnapshot } from './record-activities';

// The lock watcher: one workflow per object that reads the state of every waiting record on each tick, in queries
// of 1,000 ids, and tells only the records whose state changed. Waiting records then cost no workflow task a tick,
// and the values of those it finds unlocked are read together too (one more query per 1,000 of them).

export const LOCK_WATCHER_TYPE = 'capaLockWatcherWorkflow';
export const lockWatcherId = (object: string) => `capa-lock-watcher:${object}`;

export interface LockWatcherInput {
  object: string;
  /** Seconds between ticks (CAPA_TICK_SECONDS' first interval), aligned to the wall clock. */
  tickSeconds: number;
}

/** The tick a watcher's signal comes from: the records it finds unlocked read and write together. */
export interface WatchTick {
  at: number;
  /** How many records this tick found unlocked: their writes go out once that many have come (or quiet falls). */
  expected: number;
  /**
   * The task queue of the worker process that ran the tick, where the records it found unlocked send their writes:
   * one process's coalescer sees them all, however many workers run.
   */
  taskQueue?: string;
}

/**
 * What the watcher read of one waiting record that changed: gone from Vault, locked in another state, or unlocked
 * with the values it holds (the conflict guard's read: the record writes on it without reading again).
 */
export interface LockChange {
  snapshot: RecordSnapshot;
  tick: WatchTick;
}

export const lockChangedSignal = defineSignal<[LockChange]>('lockChanged');

export interface WatchActivities {
  /**
   * One tick of an object's lock watcher: reads the state of every waiting record in queries of 1,000 ids and tells
   * only the records to act on: gone from Vault, unlocked (they read and write now), or in another locked state than
   * they last saw (they show it). The others cost nothing this tick.
   */
  watchLocks(input: { object: string; tickAt: number; tickSeconds: number }): Promise<{
    waiting: number;
    told: number;
    unlocked: number;
  }>;
}

/**
 * A watcher that ticked within this many of its intervals, and a minute more (a tick's own reads and signals take
 * seconds), covers the waiting records: they need not read.
 */
export const WATCHER_HEALTHY_TICKS = 3;
export const WATCHER_SLACK_SECONDS = 60;
