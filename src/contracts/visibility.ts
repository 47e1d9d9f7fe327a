import { RECORD_WORKFLOW_TYPE, recordWorkflowId, RecordPhase } from './record-messages';

/**
 * The one place visibility queries are written: record workflows of an object, by state, running or not. Values
 * come from our own constants and validated ids, never from free text.
 */
export function recordQuery(o: { object: string; state?: RecordPhase; running?: boolean; batchId?: string }): string {
  return [
    `WorkflowType = '${RECORD_WORKFLOW_TYPE}'`,
    `WorkflowId STARTS_WITH '${recordWorkflowId(o.object, '')}'`,
    ...(o.state ? [`CapaSyncState = '${o.state}'`] : []),
    ...(o.batchId ? [`CapaBatchId = '${o.batchId}'`] : []),
    ...(o.running ? [`ExecutionStatus = 'Running'`] : []),
  ].join(' AND ');
}
