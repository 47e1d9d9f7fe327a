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
import type { GroupWindow } from './guarded-writes';
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
  /** The write groups' window: how long a told record may wait in one. */
  groupWindow: GroupWindow;
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

/**
 * What telling some records came to: those told (an ended workflow counts: nothing is left to tell it), and of them
 * those whose workflow had ended.
 */
interface Telling {
  told: Seen[];
  ended: Set<Seen>;
}

/** Tells these records their news (CONCURRENCY at a time); a failure is noted with its record. */
async function tell(deps: WatchActivityDeps, records: Seen[], tickAt: number, failures: string[]): Promise<Telling> {
  const { attempt } = Context.current().info;
  const limit = pLimit(CONCURRENCY);
  const ended = new Set<Seen>();
  // Every signal settles before the tick goes on: none of this attempt arrives after a later attempt's.
  const sent = await Promise.allSettled(
    records.map((s) =>
      limit(() =>
        deps.temporal.workflow
          .getHandle(s.row.workflowId)
          .signal(lockChangedSignal, { tickAt, attempt, ...s.news })
          .catch((err) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
            ended.add(s); // ended since it was listed
          }),
      ),
    ),
  );
  sent.forEach((r, i) => {
    if (r.status === 'rejected') failures.push(`${records[i].row.recordId}: signal: ${(r.reason as Error).message}`);
  });
  return { told: records.filter((_, i) => sent[i].status === 'fulfilled'), ended };
}

/** Tells these records and notes the reads (of these and of `alsoRead`): a retried attempt tells only what it must. */
async function tellAndNote(
  deps: WatchActivityDeps,
  object: string,
  tick: { tickAt: number; failures: string[] },
  records: Seen[],
  alsoRead: Seen[] = [],
): Promise<Telling> {
  stopIfGivenUp();
  const toldSince = new Date();
  const telling = await tell(deps, records, tick.tickAt, tick.failures);
  const told = new Set(telling.told);
  stopIfGivenUp();
  await deps.store.watchers.noteReads(
    object,
    [...records, ...alsoRead].map((s): WatcherRead => ({
      recordId: s.row.recordId,
      state: s.seenState,
      ...(told.has(s) ? { told: s.seenState, unlock: isUnlock(s) } : {}),
    })),
    toldSince,
  );
  return telling;
}

const isUnlock = (s: Seen) => s.news.found && !s.news.locked;

/**
 * Reads one page of waiting records (one query), tells those whose state changed other than to unlocked, and notes
 * the reads. Returns the unlocks, to be told as the workers take them.
 */
async function readPage(
  deps: WatchActivityDeps,
  object: string,
  page: WaitingRecordRow[],
  tick: { tickAt: number; failures: string[] },
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
  const seen = await Promise.all(
    page.map(async (row): Promise<Seen | undefined> => {
      const news = stateNews(states.get(row.recordId), (state) => isLockedState(dialect, state));
      const first = { row, news, seenState: news.state ?? '(gone)' };
      if (!news.found || news.locked || !dialect.lockEndpoint) return first;
      // A record whose lock endpoint fails is passed over this tick; the others go on.
      return limit(() => withLock(deps, object, first)).catch((err: Error) => {
        tick.failures.push(`${row.recordId}: ${err.message}`);
        return undefined;
      });
    }),
  );
  const read = seen.filter((s): s is Seen => s !== undefined);
  const changed = read.filter((s) => s.seenState !== s.row.toldState);
  const unlocks = changed.filter(isUnlock);
  const other = new Set(changed.filter((s) => !isUnlock(s)));
  const { told } = await tellAndNote(
    deps,
    object,
    tick,
    [...other],
    read.filter((s) => !other.has(s)),
  );
  return { told: told.length, unlocks };
}

/**
 * Tells the tick's unlocks as the window has room; those it has none for by the tick's deadline stay read, not told:
 * the next tick tells them.
 */
async function tellUnlocks(
  deps: WatchActivityDeps,
  object: string,
  tick: { tickAt: number; failures: string[] },
  unlocks: Seen[],
  window: UnlockWindow,
) {
  let told = 0;
  let next = 0;
  while (next < unlocks.length) {
    const room = await window.room(unlocks.length - next);
    if (!room) break; // the tick's time is up
    const slice = unlocks.slice(next, next + room);
    const telling = await tellAndNote(deps, object, tick, slice);
    window.told(telling.told.filter((s) => !telling.ended.has(s)).map((s) => s.row.recordId));
    told += telling.told.length;
    next += room;
  }
  return { told, deferred: unlocks.length - next };
}

/**
 * An attempt Temporal gave up on (timed out, its worker cut off: its heartbeat says so) reads, tells and notes
 * nothing more: what it saw late would overwrite what a later attempt noted.
 */
const stopIfGivenUp = () => Context.current().cancellationSignal.throwIfAborted();

/**
 * A tick tells unlocks until a tenth of its interval is left (so that it ends before the next tick is due), and
 * within half its attempt's time.
 */
function tickDeadline(tickAt: number, tickSeconds: number): number {
  const { currentAttemptScheduledTimestampMs, startToCloseTimeoutMs } = Context.current().info;
  return Math.min(tickAt + tickSeconds * 900, currentAttemptScheduledTimestampMs + startToCloseTimeoutMs / 2);
}

export function createWatchActivities(deps: WatchActivityDeps): WatchActivities {
  // A told record holds its place in the window longer than its write group may hold it, plus a busy worker's queue.
  const stallMs = deps.groupWindow.maxHoldMs + 30_000;
  return {
    async watchLocks({ object, tickAt, tickSeconds }) {
      return asActivityFailure(async () => {
        const tick = { tickAt, failures: [] as string[] };
        let waiting = 0;
        let told = 0;
        const unlocks: Seen[] = [];
        // The waiting records come from the store, a page of 1,000 at a time. Each page's news is told at once but
        // its unlocks, which wait for the window once every page is read: no page waits for the workers.
        for (let after = ''; ;) {
          stopIfGivenUp();
          const page = await deps.store.watchers.waitingPage(object, after, MAX_IDS_PER_QUERY);
          if (!page.length) break;
          const done = await readPage(deps, object, page, tick);
          waiting += page.length;
          told += done.told;
          unlocks.push(...done.unlocks);
          after = page[page.length - 1].recordId;
        }
        // Unlocks told before this tick or attempt that still wait hold their places.
        const earlier = await deps.store.watchers.unlocksInFlight(object, stallMs);
        const window = new UnlockWindow(
          {
            size: deps.watchWindow,
            deadline: tickDeadline(tickAt, tickSeconds),
            stallMs,
            stillWaiting: (ids) => deps.store.watchers.stillWaiting(object, ids),
            stopIfGivenUp,
          },
          earlier,
        );
        const paced = await tellUnlocks(deps, object, tick, unlocks, window);
        const totals = {
          waiting,
          told: told + paced.told,
          unlocked: paced.told,
          skipped: tick.failures.length,
          deferred: paced.deferred,
        };
        if (tick.failures.length) {
          deps.metrics.watcherSkipped(tick.failures.length);
          deps.logger.warn('lock watcher passed over records this tick', {
            object,
            records: tick.failures.slice(0, 20),
          });
        }
        if (paced.deferred) deps.metrics.watcherDeferred(paced.deferred);
        stopIfGivenUp();
        await deps.store.watchers.ticked(object, tickSeconds, totals.waiting, totals.told);
        deps.logger.info('lock watcher tick', { object, ...totals });
        return totals;
      });
    },
  };
}
