import { createRecordActivities, RecordActivityDeps } from './record-activities';

export type ActivityDeps = RecordActivityDeps;

/** Every activity the worker serves, bound to its dependencies (Vault client, audit trail, alerts). */
export function createActivities(deps: ActivityDeps) {
  return { ...createRecordActivities(deps) };
}
