// The id an activity writes under: the same across its attempts, so that a retry finds its audit entries or its
// alert already stored and does not store them twice.
import { Context } from '@temporalio/activity';

/**
 * `<prefix><workflowId>/<runId>/<activityId>` of the running activity; the workflow id is the activity's own unless
 * the caller names it. These strings are stored (audit write ids, sent-alert keys): they must not change shape, or a
 * retry of an activity started before would not find what its first attempt wrote.
 */
export function currentWriteId({ prefix = '', workflowId }: { prefix?: string; workflowId?: string } = {}): string {
  const { workflowExecution, activityId } = Context.current().info;
  return `${prefix}${workflowId ?? workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
}
