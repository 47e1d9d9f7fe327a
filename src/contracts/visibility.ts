import { RECORD_WORKFLOW_TYPE, recordWorkflowId, RecordPhase } from './record-messages';

/** A team or lock holder's name as a visibility query may carry it: no quote, no backslash, nothing to escape. */
export const QUERYABLE_NAME = /^[\w.@+ -]{1,200}$/;

/**
 * The one place visibility queries are written: record workflows of an object, by phase, running or not, by team or
 * lock holder. Values come from our own constants, validated ids and names that match QUERYABLE_NAME, never from
 * free text.
 */
export function recordQuery(o: {
  object: string;
  phase?: RecordPhase;
  running?: boolean;
  batchId?: string;
  team?: string;
  holder?: string;
}): string {
  for (const name of [o.team, o.holder])
    if (name !== undefined && !QUERYABLE_NAME.test(name)) throw new Error(`not a team or holder name: ${name}`);
  return [
    `WorkflowType = '${RECORD_WORKFLOW_TYPE}'`,
    `WorkflowId STARTS_WITH '${recordWorkflowId(o.object, '')}'`,
    ...(o.phase ? [`CapaSyncState = '${o.phase}'`] : []),
    ...(o.batchId ? [`CapaBatchId = '${o.batchId}'`] : []),
    ...(o.team ? [`CapaTeam = '${o.team}'`] : []),
    ...(o.holder ? [`CapaLockHolder = '${o.holder}'`] : []),
    ...(o.running ? [`ExecutionStatus = 'Running'`] : []),
  ].join(' AND ');
}
