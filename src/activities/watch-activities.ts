import { Client, WorkflowNotFoundError } from '@temporalio/client';
import pLimit from 'p-limit';
import { lockChangedSignal, type WatchActivities } from '../contracts/lock-watch';
import type { RecordSnapshot } from '../contracts/record-activities';
import { recordQuery } from '../contracts/visibility';
import { recordWorkflowId } from '../contracts/record-messages';
import type { Logger } from '../logger';
import type { Store } from '../store/store';
import type { VaultClient } from '../vault/client';
import { isLockedState, type VaultDialect } from '../vault/dialect';
import { snapshotOf } from './record-snapshot';
import { present } from '../store/rows';
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

/** A waiting record as visibility lists it: its workflow and the Vault state it last saw. */
interface Waiting {
  workflowId: string;
  recordId: string;
  vaultState?: string;
}

export function createWatchActivities(deps: WatchActivityDeps): WatchActivities {
  /** The object's record workflows waiting for an unlock (visibility: what the Web UI lists). */
  async function waitingRecords(object: string): Promise<Waiting[]> {
    const prefix = recordWorkflowId(object, '');
    const query = recordQuery({ object, state: 'waiting-for-unlock', running: true });
    const waiting: Waiting[] = [];
    for await (const wf of deps.temporal.workflow.list({ query, pageSize: 1000 })) {
      const sa = wf.searchAttributes as Record<string, string[] | undefined>;
      waiting.push({
        workflowId: wf.workflowId,
        recordId: wf.workflowId.slice(prefix.length),
        vaultState: sa.CapaVaultState?.[0],
      });
    }
    return waiting;
  }

  return {
    async watchLocks({ object, tickAt, tickSeconds }) {
      return asActivityFailure(async () => {
        const waiting = await waitingRecords(object);
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
        const changes: [Waiting, RecordSnapshot][] = await Promise.all(
          changed.map(async (w): Promise<[Waiting, RecordSnapshot]> => {
            const state = states.get(w.recordId);
            if (locked(state)) return [w, { found: true, state, values: {}, locked: true }];
            return [w, await snapshotOf(values.get(w.recordId), deps.dialect, readLock)];
          }),
        );
        const tick = { at: tickAt, expected: unlocked.length, ...present({ taskQueue: deps.ownTaskQueue ?? null }) };
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
