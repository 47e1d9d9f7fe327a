import { RECORD_WORKFLOW_TYPE, recordWorkflowId, SyncState } from './record-messages';

/**
 * The one place visibility queries are written: record workflows of an object, by state, running or not. Values
 * come from our own constants and validated ids, never from free text.
 */
export function recordQuery(o: { object: string; state?: SyncState; running?: boolean }): string {
  return [
    `WorkflowType = '${RECORD_WORKFLOW_TYPE}'`,
    `WorkflowId STARTS_WITH '${recordWorkflowId(o.object, '')}'`,
    ...(o.state ? [`CapaSyncState = '${o.state}'`] : []),
    ...(o.running ? [`ExecutionStatus = 'Running'`] : []),
  ].join(' AND ');
}
