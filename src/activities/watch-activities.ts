import { Context } from '@temporalio/activity';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { lockChangedSignal, type LockNews, type WatchActivities } from '../contracts/lock-watch';
import type { Logger } from '../observability/logger';
import type { SyncMetrics } from '../temporal/metrics';
import type { WaitingRecordRow, WatcherRead } from '../store/lock-watchers';
import type { Store } from '../store/store';
import { ONE_RECORD_LOCK_READ, type VaultClient } from '../vault/client';
import { isLockedState } from '../vault/dialect';
import { MAX_IDS_PER_QUERY } from '../vault/vql';
import { asActivityFailure } from './activity-failures';
import { UnlockWindow } from './unlock-window';

export interface WatchActivityDeps {
  /** Direct: the watcher's reads are full queries of 1,000 ids already. */
  vault: VaultClient;
  temporal: Client;
  store: Store;
  logger: Logger;
  metrics: SyncMetrics;
  /** CAPA_WATCH_WINDOW: records told of an unlock and not settled yet, at most. */
  watchWindow: number;
}

/** Lock-endpoint reads and signals in flight at once. */
const CONCURRENCY = 50;

/** What the watcher saw of one record: the news to tell, and the state as the store keeps it (a lock is part of it). */
interface Seen {
  row: WaitingRecordRow;
  news: Omit<LockNews, 'tickAt'>;
  seenState: string;
}

/** A record's news from its state__v alone: gone, or its state and whether that state locks it. */
const stateNews = (state: string | undefined, locked: (state: string) => boolean): Omit<LockNews, 'tickAt'> =>
  state === undefined ? { found: false, locked: false } : { found: true, state, locked: locked(state) };

/** Where state__v says unlocked, the customer dialect's lock endpoint may still say locked: part of the state seen. */
async function withLock(deps: WatchActivityDeps, object: string, seen: Seen): Promise<Seen> {
  const lock = await deps.vault.readLock(object, seen.row.recordId, ONE_RECORD_LOCK_READ);
  if (!lock.locked) return seen;
  const news = { ...seen.news, locked: true, lockedBy: lock.lockedBy, lockedSince: lock.lockedSince };
  return { ...seen, news, seenState: `${seen.seenState} (locked)` };
}

/** Tells these records their news (CONCURRENCY at a time), and says which were told; a failure is noted with its record. */
async function tell(deps: WatchActivityDeps, changed: Seen[], tickAt: number, failures: string[]): Promise<Seen[]> {
  const { attempt } = Context.current().info;
  const limit = pLimit(CONCURRENCY);
  // Every signal settles before the tick goes on: none of this attempt arrives after a later attempt's.
  const sent = await Promise.allSettled(
    changed.map((s) =>
      limit(() =>
        deps.temporal.workflow
          .getHandle(s.row.workflowId)
          .signal(lockChangedSignal, { tickAt, attempt, ...s.news })
          .catch((err) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err; // ended since it was listed
          }),
      ),
    ),
  );
  sent.forEach((r, i) => {
    if (r.status === 'rejected') failures.push(`${changed[i].row.recordId}: signal: ${(r.reason as Error).message}`);
  });
  return changed.filter((_, i) => sent[i].status === 'fulfilled');
}

const isUnlock = (s: Seen) => s.news.found && !s.news.locked;

/**
 * Reads one page of waiting records (one query), tells those whose state changed, and notes the reads. Unlocks are
 * told as the window has room; those it has none for by the tick's deadline are read, not told: the next tick tells
 * them.
 */
async function watchPage(
  deps: WatchActivityDeps,
  object: string,
  page: WaitingRecordRow[],
  tickAt: number,
  window: UnlockWindow,
) {
  const dialect = deps.vault.dialect;
  const states = new Map(
    (
      await deps.vault.readStates(
        object,
        page.map((r) => r.recordId),
        [],
      )
    ).map((s) => [s.id, s.state]),
  );
  const limit = pLimit(CONCURRENCY);
  const failures: string[] = [];
  const seen = await Promise.all(
    page.map(async (row): Promise<Seen | undefined> => {
      const news = stateNews(states.get(row.recordId), (state) => isLockedState(dialect, state));
      const first = { row, news, seenState: news.state ?? '(gone)' };
      if (!news.found || news.locked || !dialect.lockEndpoint) return first;
      // A record whose lock endpoint fails is passed over this tick; the others go on.
      return limit(() => withLock(deps, object, first)).catch((err: Error) => {
        failures.push(`${row.recordId}: ${err.message}`);
        return undefined;
      });
    }),
  );
  const read = seen.filter((s): s is Seen => s !== undefined);
  const changed = new Set(read.filter((s) => s.seenState !== s.row.toldState));
  const unlocks = [...changed].filter(isUnlock);
  const told = new Set<Seen>();
  // Reads are noted as soon as their records are told (or not), so a retried attempt tells again only what it must.
  const tellAndNote = async (toTell: Seen[], alsoRead: Seen[] = []) => {
    stopIfGivenUp();
    (await tell(deps, toTell, tickAt, failures)).forEach((s) => told.add(s));
    stopIfGivenUp();
    await deps.store.watchers.noteReads(
      object,
      [...toTell, ...alsoRead].map((s): WatcherRead => ({
        recordId: s.row.recordId,
        state: s.seenState,
        ...(told.has(s) ? { told: s.seenState } : {}),
      })),
    );
  };
  await tellAndNote(
    [...changed].filter((s) => !isUnlock(s)),
    read.filter((s) => !changed.has(s)),
  );
  let next = 0;
  while (next < unlocks.length) {
    const room = await window.room(unlocks.length - next);
    if (!room) break; // the tick's time is up: the next tick tells the rest
    const slice = unlocks.slice(next, next + room);
    await tellAndNote(slice);
    window.told(slice.filter((s) => told.has(s)).map((s) => s.row.recordId));
    next += room;
  }
  await tellAndNote([], unlocks.slice(next));
  if (failures.length) {
    deps.metrics.watcherSkipped(failures.length);
    deps.logger.warn('lock watcher passed over records this tick', { object, records: failures.slice(0, 20) });
  }
  const unlocked = [...told].filter(isUnlock).length;
  return { told: told.size, unlocked, skipped: failures.length, deferred: unlocks.length - next };
}

/**
 * An attempt Temporal gave up on (timed out, its worker cut off: its heartbeat says so) reads, tells and notes
 * nothing more: what it saw late would overwrite what a later attempt noted.
 */
const stopIfGivenUp = () => Context.current().cancellationSignal.throwIfAborted();

/**
 * A tick tells unlocks until its next tick is due, and within half its attempt's time. The tick after it comes a
 * whole interval later (the watcher sleeps to the next one), when those it told have settled or are stuck: each tick's
 * window starts empty.
 */
function tickDeadline(tickAt: number, tickSeconds: number): number {
  const { currentAttemptScheduledTimestampMs, startToCloseTimeoutMs } = Context.current().info;
  return Math.min(tickAt + tickSeconds * 1000, currentAttemptScheduledTimestampMs + startToCloseTimeoutMs / 2);
}

export function createWatchActivities(deps: WatchActivityDeps): WatchActivities {
  return {
    async watchLocks({ object, tickAt, tickSeconds }) {
      return asActivityFailure(async () => {
        const totals = { waiting: 0, told: 0, unlocked: 0, skipped: 0, deferred: 0 };
        const window = new UnlockWindow({
          size: deps.watchWindow,
          deadline: tickDeadline(tickAt, tickSeconds),
          stillWaiting: (ids) => deps.store.watchers.stillWaiting(object, ids),
          stopIfGivenUp,
        });
        // The waiting records come from the store, a page of 1,000 at a time: memory stays flat at any count.
        for (let after = ''; ;) {
          stopIfGivenUp();
          const page = await deps.store.watchers.waitingPage(object, after, MAX_IDS_PER_QUERY);
          if (!page.length) break;
          const done = await watchPage(deps, object, page, tickAt, window);
          totals.waiting += page.length;
          totals.told += done.told;
          totals.unlocked += done.unlocked;
          totals.skipped += done.skipped;
          totals.deferred += done.deferred;
          after = page[page.length - 1].recordId;
        }
        stopIfGivenUp();
        await deps.store.watchers.ticked(object, tickSeconds, totals.waiting, totals.told);
        deps.logger.info('lock watcher tick', { object, ...totals });
        return totals;
      });
    },
  };
}
