import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { CapaRecord } from './capa-record';
import {
  cancelSignal,
  cancelUpdate,
  forceSignal,
  forceUpdate,
  OperatorDecision,
  RecordWorkflowInput,
  RecordWorkflowResult,
  setDesiredValuesSignal,
  statusQuery,
} from '../contracts/record-messages';
import { lockChangedSignal } from '../contracts/lock-watch';

/**
 * One CAPA record whose update Vault refused because a lifecycle workflow locks it: waits out the lock, guards
 * against overwriting a reviewer's edit, then applies the newest values, unless an operator forces or cancels first.
 * The record and its transitions are in capa-record.ts; this is the process.
 */
export async function capaRecordWorkflow(input: RecordWorkflowInput): Promise<RecordWorkflowResult> {
  const record = new CapaRecord(input);
  const validator = (d: OperatorDecision) => record.validate(d);
  setHandler(forceUpdate, (d) => record.submit('force', d), { validator });
  setHandler(cancelUpdate, (d) => record.submit('cancel', d), { validator });
  setHandler(forceSignal, (d) => record.submitSignal('force', d));
  setHandler(cancelSignal, (d) => record.submitSignal('cancel', d));
  setHandler(setDesiredValuesSignal, (values) => record.setDesiredValues(values));
  setHandler(lockChangedSignal, (change) => record.lockChanged(change));
  setHandler(statusQuery, () => record.status());

  while (!record.ended) {
    if (record.shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof capaRecordWorkflow>(record.carry());
    }
    await record.step();
  }
  const next = await record.finish();
  // As if the values had come just after this run closed: a new run, which knows what this one wrote.
  if (next) return continueAsNew<typeof capaRecordWorkflow>(next);
  return record.result();
}
