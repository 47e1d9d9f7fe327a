import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { BatchActivities } from '../contracts/batch-activities';
import { activityOptions } from '../contracts/activity-timeouts';
import type { PlanInput, PlanSummary } from '../contracts/plan-messages';
import { runPages } from './pages';

const acts = proxyActivities<Pick<BatchActivities, 'prepareBatch' | 'planPage' | 'finishPlan'>>(
  activityOptions({ timeout: '30 minutes', maxInterval: '1 minute', maxAttempts: 5 }),
);

/**
 * A dry run of a batch (`capa-sync plan`): loads and validates the export as a batch does, reads every record's
 * state and values in bulk, and notes what each row would do. It writes nothing to Vault and starts no record
 * workflow; a few events a page, so even a million rows fit in one run.
 */
export async function capaPlanWorkflow({ planId, source }: PlanInput): Promise<PlanSummary> {
  setCurrentDetails(`**preparing** plan ${planId}`);
  const { pages } = await acts.prepareBatch({ batchId: planId, source, kind: 'plan' });
  await runPages(0, pages, (page) => acts.planPage({ batchId: planId, page }), {
    starting: (page) => setCurrentDetails(`**reading** page ${page + 1} of ${pages}`),
  });
  setCurrentDetails(`**reporting** plan ${planId}`);
  return acts.finishPlan({ batchId: planId });
}
