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

export interface WatchActivityDeps {
  /** Direct: the watcher's reads are full queries of 1,000 ids already. */
  vault: VaultClient;
  temporal: Client;
  store: Store;
  logger: Logger;
  metrics: SyncMetrics;
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

/** Reads one page of waiting records (one query), tells those whose state changed, and notes the reads. */
async function watchPage(deps: WatchActivityDeps, object: string, page: WaitingRecordRow[], tickAt: number) {
  const { attempt } = Context.current().info;
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
  const changed = read.filter((s) => s.seenState !== s.row.toldState);
  stopIfGivenUp();
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
  const told = new Set(changed.filter((_, i) => sent[i].status === 'fulfilled'));
  sent.forEach((r, i) => {
    if (r.status === 'rejected') failures.push(`${changed[i].row.recordId}: signal: ${(r.reason as Error).message}`);
  });
  const reads = read.map((s): WatcherRead => ({
    recordId: s.row.recordId,
    state: s.seenState,
    ...(told.has(s) ? { told: s.seenState } : {}),
  }));
  stopIfGivenUp();
  await deps.store.watchers.noteReads(object, reads);
  if (failures.length) {
    deps.metrics.watcherSkipped(failures.length);
    deps.logger.warn('lock watcher passed over records this tick', { object, records: failures.slice(0, 20) });
  }
  const unlocked = [...told].filter((s) => s.news.found && !s.news.locked).length;
  return { told: told.size, unlocked, skipped: failures.length };
}

/**
 * An attempt Temporal gave up on (timed out, its worker cut off: its heartbeat says so) reads, tells and notes
 * nothing more: what it saw late would overwrite what a later attempt noted.
 */
const stopIfGivenUp = () => Context.current().cancellationSignal.throwIfAborted();

export function createWatchActivities(deps: WatchActivityDeps): WatchActivities {
  return {
    async watchLocks({ object, tickAt, tickSeconds }) {
      return asActivityFailure(async () => {
        const totals = { waiting: 0, told: 0, unlocked: 0, skipped: 0 };
        // The waiting records come from the store, a page of 1,000 at a time: memory stays flat at any count.
        for (let after = ''; ;) {
          stopIfGivenUp();
          const page = await deps.store.watchers.waitingPage(object, after, MAX_IDS_PER_QUERY);
          if (!page.length) break;
          const done = await watchPage(deps, object, page, tickAt);
          totals.waiting += page.length;
          totals.told += done.told;
          totals.unlocked += done.unlocked;
          totals.skipped += done.skipped;
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
