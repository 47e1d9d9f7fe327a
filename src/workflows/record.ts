import { allHandlersFinished, condition, continueAsNew, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { sameFieldValue } from '../contracts/field-values';
import { CapaRecord } from './capa-record';
import { sameText } from './record-policy';
import { NEW_RUN_FOR_LATE_VALUES, ONE_SAME_VALUE_RULE, SETTLE_ROWS_IN_THE_STORE } from './record-patches';
import {
  CarriedState,
  cancelSignal,
  cancelUpdate,
  forceSignal,
  forceUpdate,
  OperatorDecision,
  PendingOperation,
  RecordWorkflowInput,
  setDesiredValuesSignal,
  statusQuery,
  SyncState,
} from '../contracts/record-messages';

export interface RecordWorkflowResult {
  recordId: string;
  state: SyncState;
  attempts: number;
  decisions: CarriedState['decisions'];
}

/**
 * One CAPA record whose update Vault refused because a lifecycle workflow locks it. Waits out the lock by reading
 * `state__v` on wall-clock-aligned ticks, guards against overwriting a reviewer's manual edit, then applies the
 * newest desired values, unless an operator forces or cancels first. The steps are in capa-record.ts, the
 * decisions in record-policy.ts.
 */
export async function capaRecordWorkflow(input: RecordWorkflowInput): Promise<RecordWorkflowResult> {
  const record = new CapaRecord(input, patched(ONE_SAME_VALUE_RULE) ? sameFieldValue : sameText);

  const validator = (d: OperatorDecision) => record.validate(d);
  setHandler(forceUpdate, (d) => record.result(record.enqueue('force', d)), { validator });
  setHandler(cancelUpdate, (d) => record.result(record.enqueue('cancel', d)), { validator });
  const fromSignal = (kind: PendingOperation['kind']) => (d: OperatorDecision) => {
    try {
      record.validate(d);
      record.enqueue(kind, d);
    } catch {
      // A signal has no caller to answer: an invalid one is ignored (the Update form reports why).
    }
  };
  setHandler(forceSignal, fromSignal('force'));
  setHandler(cancelSignal, fromSignal('cancel'));
  setHandler(setDesiredValuesSignal, (update) => record.setDesiredValues(update));
  setHandler(statusQuery, () => record.status());

  record.publish();
  while (!record.ended) {
    const op = record.s.pending.shift();
    if (op) {
      await record.handleOperator(op);
      continue;
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= input.options.historyEventLimit) {
      await condition(allHandlersFinished);
      record.s.runs++;
      return continueAsNew<typeof capaRecordWorkflow>({ ...input, carried: record.s });
    }
    if (record.s.phase === 'needs-decision') await record.waitForDecision();
    else await record.waitingStep();
  }
  record.answerLateOperations();
  await condition(allHandlersFinished);
  if (patched(SETTLE_ROWS_IN_THE_STORE)) await record.settle();
  const next = record.nextRunForLateValues();
  // As if the values had come just after this run closed: a new run, which knows what this one wrote.
  if (next && patched(NEW_RUN_FOR_LATE_VALUES)) return continueAsNew<typeof capaRecordWorkflow>(next);
  const { s } = record;
  return { recordId: input.recordId, state: s.phase, attempts: s.attempts, decisions: s.decisions };
}
