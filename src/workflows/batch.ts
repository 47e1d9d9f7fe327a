import { setHandler } from '@temporalio/workflow';
import { approveUpdate, BatchInput, BatchSummary, progressQuery, rejectUpdate } from '../contracts/batch-messages';
import { BatchRun } from './batch-run';

export { HANDLERS_FINISH_BEFORE_NEW_RUN } from './batch-run';

/**
 * The nightly batch (or a revert of one): load and validate the export; read every record's state in bulk and hold
 * an unusual batch for a person's approval (the gate); then page by page read states again, update unlocked records
 * in bulk and hand locked ones to record workflows; finally write the report and the digest alert. The batch's
 * steps and state are in batch-run.ts; this is the process.
 */
export async function capaBatchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const run = new BatchRun(input);
  setHandler(progressQuery, () => run.progress);
  for (const [update, kind] of [
    [approveUpdate, 'approve'],
    [rejectUpdate, 'reject'],
  ] as const)
    setHandler(update, (d) => run.decide(kind, d), { validator: (d) => run.validateDecision(kind, d) });

  if (run.progress.phase === 'preparing') await run.prepare();
  if (run.progress.phase === 'planning') await run.planAndGate();
  if (run.rejection) await run.reject(run.rejection);
  else {
    // Every unlocked record is written first; locked ones get their workflows afterwards (that is slower work).
    await run.applyPages();
    await run.handOffPages();
  }
  return run.finish();
}
