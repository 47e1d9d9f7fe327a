import { Client, WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { lockChangedSignal, type WatchActivities } from '../contracts/lock-watch';
import type { RecordSnapshot } from '../contracts/record-activities';
import { recordWorkflows, type WaitingRecord } from '../operations';
import type { Logger } from '../logger';
import type { Store } from '../store/store';
import type { VaultClient } from '../vault/client';
import { isLockedState, type VaultDialect } from '../vault/dialect';
import { snapshotOf } from './record-snapshot';
import { asActivityFailure } from './activity-failures';

export interface WatchActivityDeps {
  /** Direct: the watcher's reads are full queries of 1,000 ids already. */
  vault: VaultClient;
  dialect: VaultDialect;
  temporal: Client;
  store: Store;
  logger: Logger;
  /** The fields batches write: read for the records found unlocked. */
  fields: string[];
  /** This worker process's own task queue (see WatchTick.taskQueue), where it runs one. */
  ownTaskQueue?: string;
}

const CONCURRENCY = 50;

export function createWatchActivities(deps: WatchActivityDeps): WatchActivities {
  return {
    async watchLocks({ object, tickAt, tickSeconds }) {
      return asActivityFailure(async () => {
        const waiting = await recordWorkflows(deps.temporal, { object, state: 'waiting-for-unlock', running: true });
        const ids = waiting.map((w) => w.recordId);
        const states = new Map((await deps.vault.readStates(object, ids, [])).map((s) => [s.id, s.state]));
        const locked = (state: string | undefined) => state !== undefined && isLockedState(deps.dialect, state);
        const changed = waiting.filter(
          (w) => !locked(states.get(w.recordId)) || states.get(w.recordId) !== w.vaultState,
        );
        // The values of those that are no longer locked, read together: what their conflict guard checks.
        const unlocked = changed.filter((w) => !locked(states.get(w.recordId)));
        const read = await deps.vault.readStates(
          object,
          unlocked.map((w) => w.recordId),
          deps.fields,
        );
        const values = new Map(read.map((s) => [s.id, s]));
        // Calls to Vault (the customer dialect's lock endpoint) and Temporal, a few dozen at once.
        const limit = pLimit(CONCURRENCY);
        const readLock = (id: string) => limit(() => deps.vault.readLock(object, id));
        const changes: [WaitingRecord, RecordSnapshot][] = await Promise.all(
          changed.map(async (w): Promise<[WaitingRecord, RecordSnapshot]> => {
            const state = states.get(w.recordId);
            if (locked(state)) return [w, { found: true, state, values: {}, locked: true }];
            return [w, await snapshotOf(values.get(w.recordId), deps.dialect, readLock)];
          }),
        );
        const tick = {
          at: tickAt,
          expected: unlocked.length,
          ...(deps.ownTaskQueue ? { taskQueue: deps.ownTaskQueue } : {}),
        };
        await Promise.all(
          changes.map(([w, snapshot]) =>
            limit(() =>
              deps.temporal.workflow
                .getHandle(w.workflowId)
                .signal(lockChangedSignal, { snapshot, tick })
                .catch((err) => {
                  if (!(err instanceof WorkflowNotFoundError)) throw err; // ended since it was listed
                }),
            ),
          ),
        );
        await deps.store.watchers.ticked(object, tickSeconds, waiting.length, changes.length);
        deps.logger.info('lock watcher tick', {
          object,
          waiting: waiting.length,
          told: changes.length,
          unlocked: tick.expected,
        });
        return { waiting: waiting.length, told: changes.length, unlocked: tick.expected };
      });
    },
  };
}
