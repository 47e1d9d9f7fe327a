// activities/: every side effect the workflows ask for: the batch's steps (activities/batch/), the record's guarded
// write and alerts, the lock watcher's tick. Imports the layers below it, never workflow code.

import { BatchActivityDeps, createBatchActivities } from './batch';
import { withHeartbeats } from './heartbeats';
import { createRecordActivities, RecordActivityDeps } from './record-activities';
import { createWatchActivities, WatchActivityDeps } from './watch-activities';

export type ActivityDeps = RecordActivityDeps & BatchActivityDeps & WatchActivityDeps;

/** Every activity the worker serves, bound to its dependencies (Vault clients, Temporal client, audit, alerts). */
export function createActivities(deps: ActivityDeps) {
  return withHeartbeats({
    ...createRecordActivities(deps),
    ...createBatchActivities(deps),
    ...createWatchActivities(deps),
  });
}
