import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { BatchActivities } from '../contracts/batch-activities';
import { HEARTBEAT_TIMEOUT_MS } from '../contracts/activity-timeouts';
import type { PlanInput, PlanSummary } from '../contracts/plan-messages';

const acts = proxyActivities<Pick<BatchActivities, 'prepareBatch' | 'planPage' | 'finishPlan'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
/** Pages hold distinct records, so two are read at once, as a batch does. */
const PAGES_IN_FLIGHT = 2;

/**
 * A dry run of a batch (`capa-sync plan`): loads and validates the export as a batch does, reads every record's
 * state and values in bulk, and notes what each row would do. It writes nothing to Vault and starts no record
 * workflow; a few events a page, so even a million rows fit in one run.
 */
export async function capaPlanWorkflow({ planId, source }: PlanInput): Promise<PlanSummary> {
  setCurrentDetails(`**preparing** plan ${planId}`);
  const { pages } = await acts.prepareBatch({ batchId: planId, source, kind: 'plan' });
  for (let page = 0; page < pages; page += PAGES_IN_FLIGHT) {
    setCurrentDetails(`**reading** page ${page + 1} of ${pages}`);
    const inFlight = Array.from({ length: Math.min(PAGES_IN_FLIGHT, pages - page) }, (_, i) => page + i);
    await Promise.all(inFlight.map((p) => acts.planPage({ batchId: planId, page: p })));
  }
  setCurrentDetails(`**reporting** plan ${planId}`);
  return acts.finishPlan({ batchId: planId });
}
