// The batch workflow's activities, composed from one module per concern: prepare.ts (rows into the store, a
// revert's start), pages.ts (bulk writes and hand-offs to record workflows), gate.ts (plan, approval gate,
// decisions), finish.ts (report, digest, failure alert); deps.ts and decisions.ts hold what they share.
import type { BatchActivities } from '../../contracts/batch-activities';
import type { BatchActivityDeps } from './deps';
import { finishActivities } from './finish';
import { gateActivities } from './gate';
import { pageActivities } from './pages';
import { prepareActivities } from './prepare';

export type { BatchActivityDeps } from './deps';

export function createBatchActivities(deps: BatchActivityDeps): BatchActivities {
  return {
    ...prepareActivities(deps),
    ...pageActivities(deps),
    ...gateActivities(deps),
    ...finishActivities(deps),
  };
}
