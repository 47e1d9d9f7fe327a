// A decision on a whole batch in the audit trail: the revert's (beginRevert) and the approver's (recordBatchDecision).
import { Context } from '@temporalio/activity';
import type { DecisionEntry } from '../../store/audit-trail';
import type { BatchActivityDeps } from './deps';

/** A decision on a whole batch (its approval, rejection, revert) in the audit trail, once per `writeId`. */
export async function appendBatchDecision(
  deps: BatchActivityDeps,
  d: Pick<DecisionEntry, 'batchId' | 'actor' | 'reason' | 'decision' | 'outcome' | 'origin'>,
  writeId: string,
): Promise<void> {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  await deps.store.audit.appendDecision({ object: deps.object, workflowId, ...d }, writeId);
}
