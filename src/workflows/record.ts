import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  Actor,
  ApplyResult,
  RecordActivities,
  RecordAlertReason,
  RecordSnapshot,
} from '../activities/record-types';
import { HEARTBEAT_TIMEOUT_MS } from './activity-timeouts';
import {
  alertDue,
  conflictDetail,
  conflictingFields,
  decisionProblem,
  forceOutcome,
  iso,
  nextTickAt,
  ownWrites,
  sameText,
  statusView,
} from './record-policy';
import { sameFieldValue } from '../field-values';
import { CapaBatchId, CapaRecordId, CapaSyncState, CapaVaultState } from './search-attributes';
import {
  CarriedState,
  cancelSignal,
  DesiredValues,
  cancelUpdate,
  forceSignal,
  forceUpdate,
  NeedsDecisionReason,
  OperatorDecision,
  PendingOperation,
  RecordWorkflowInput,
  setDesiredValuesSignal,
  statusQuery,
  SyncState,
  TERMINAL_STATES,
} from './record-messages';

/** Patches (see README, "Changing workflow code"): each guards a change that running workflows must not replay. */
const WRITE_NEWER_VALUES_NEXT = 'write-newer-values-next';
const OWN_WRITES_ARE_NOT_EDITS = 'own-writes-are-not-edits';
const NEW_RUN_FOR_LATE_VALUES = 'new-run-for-late-values';
const SETTLE_ROWS_IN_THE_STORE = 'settle-rows-in-the-store';
const ONE_SAME_VALUE_RULE = 'one-same-value-rule';

export interface RecordWorkflowResult {
  recordId: string;
  state: SyncState;
  attempts: number;
  decisions: CarriedState['decisions'];
}

/**
 * One CAPA record whose update Vault refused because a lifecycle workflow locks it. Waits out the lock by reading
 * `state__v` on wall-clock-aligned ticks, guards against overwriting a reviewer's manual edit, then applies the
 * newest desired values, unless an operator forces or cancels first.
 */
export async function capaRecordWorkflow(input: RecordWorkflowInput): Promise<RecordWorkflowResult> {
  const { object, recordId, options } = input;
  const workflowId = workflowInfo().workflowId;
  const s: CarriedState = input.carried ?? {
    phase: 'waiting-for-unlock',
    desired: input.desired,
    baseline: input.baseline,
    sourceTimestamp: input.sourceTimestamp,
    batchId: input.batchId,
    waitingSince: Date.now(),
    attempts: 0,
    decisions: [],
    pending: [],
    alertsSent: {},
    operationSeq: 0,
    runs: 0,
  };
  const same = patched(ONE_SAME_VALUE_RULE) ? sameFieldValue : sameText;
  const results = new Map<number, string>();
  /** Newer values that arrived once this run had reached its end: the next run writes them. */
  let late: DesiredValues | undefined;
  /** The tick a timer woke this workflow for: its read says so, to merge with the other records' of that tick. */
  let tickDue: number | undefined;

  const acts = proxyActivities<RecordActivities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: `${options.activityMaxIntervalSeconds} seconds`,
    },
  });

  // ---- operator messages -------------------------------------------------------------------------------------
  const enqueue = (kind: PendingOperation['kind'], d: OperatorDecision): number => {
    const id = ++s.operationSeq;
    s.pending.push({ id, kind, operator: d.operator.trim(), reason: d.reason.trim() });
    return id;
  };
  const validate = (d: OperatorDecision) => {
    const problem = decisionProblem(d, s.phase);
    if (problem) throw new Error(problem);
  };
  const awaitResult = async (id: number) => {
    await condition(() => results.has(id));
    return results.get(id)!;
  };
  setHandler(forceUpdate, (d) => awaitResult(enqueue('force', d)), { validator: validate });
  setHandler(cancelUpdate, (d) => awaitResult(enqueue('cancel', d)), { validator: validate });
  const fromSignal = (kind: PendingOperation['kind']) => (d: OperatorDecision) => {
    try {
      validate(d);
      enqueue(kind, d);
    } catch {
      // A signal has no caller to answer: an invalid one is ignored (the Update form reports why).
    }
  };
  setHandler(forceSignal, fromSignal('force'));
  setHandler(cancelSignal, fromSignal('cancel'));
  setHandler(setDesiredValuesSignal, (update) => {
    if (update.sourceTimestamp <= (late ?? s).sourceTimestamp) return; // newest source wins
    if (TERMINAL_STATES.includes(s.phase)) {
      late = update;
      return;
    }
    s.desired = update.desired;
    s.baseline = { ...update.baseline, ...s.baseline }; // the first baseline seen for a field is what a reviewer changed
    s.sourceTimestamp = update.sourceTimestamp;
    s.batchId = update.batchId;
    if (s.needsDecision?.reason === 'conflict') setPhase('waiting-for-unlock'); // re-check against the new values
  });
  setHandler(statusQuery, () => statusView(s, { workflowId, object, recordId }));

  // ---- state changes, visible in the Web UI --------------------------------------------------------------------
  function setPhase(phase: SyncState, needsDecision?: CarriedState['needsDecision']): void {
    s.phase = phase;
    s.needsDecision = needsDecision;
    publish();
  }
  function publish(): void {
    upsertSearchAttributes([
      { key: CapaSyncState, value: s.phase },
      { key: CapaRecordId, value: recordId },
      { key: CapaBatchId, value: s.batchId },
      ...(s.vaultState ? [{ key: CapaVaultState, value: s.vaultState }] : []),
    ]);
  }
  async function alert(reason: RecordAlertReason, detail: string): Promise<void> {
    if (!alertDue(s.alertsSent, reason, Date.now())) return;
    s.alertsSent[reason] = Date.now();
    await acts.sendRecordAlert({
      reason,
      object,
      recordId,
      workflowId,
      vaultState: s.vaultState,
      lockedBy: s.lockedBy,
      batchId: s.batchId,
      detail,
    });
  }
  async function needDecision(reason: NeedsDecisionReason, fields: string[], detail: string): Promise<void> {
    setPhase('needs-decision', { reason, fields });
    await alert(reason, detail);
  }

  // ---- Vault ----------------------------------------------------------------------------------------------------
  async function read(): Promise<RecordSnapshot> {
    const tickAt = tickDue;
    tickDue = undefined;
    const snapshot = await acts.readRecord({ object, recordId, fields: Object.keys(s.desired), tickAt });
    s.attempts++;
    s.lastCheck = Date.now();
    const changed = snapshot.state !== s.vaultState;
    s.vaultState = snapshot.state;
    s.lockedBy = snapshot.lockedBy;
    if (changed) publish();
    return snapshot;
  }
  async function apply(snapshot: RecordSnapshot, actor: Actor): Promise<ApplyResult> {
    setPhase('applying');
    const { desired: values, sourceTimestamp } = s;
    const previous = Object.fromEntries(Object.keys(values).map((f) => [f, snapshot.values[f] ?? null]));
    const result = await acts.applyChange({
      object,
      recordId,
      workflowId,
      values,
      previous,
      batchId: s.batchId,
      sourceTimestamp,
      actor,
    });
    if (result.status === 'updated' || result.status === 'unchanged') {
      // Newer values came while this write was in flight: they are written next, and what Vault now holds is
      // our own write, not a reviewer's edit.
      if (s.sourceTimestamp !== sourceTimestamp && patched(WRITE_NEWER_VALUES_NEXT)) {
        s.baseline = { ...s.baseline, ...values };
        setPhase('waiting-for-unlock');
      } else setPhase('applied');
    } else if (result.status === 'locked') setPhase('waiting-for-unlock');
    else {
      setPhase('failed');
      await alert('permanent-failure', `${result.errorType ?? 'error'}: ${result.message ?? ''}`.trim());
    }
    return result;
  }
  async function sleepUntilNextTick(): Promise<void> {
    const now = Date.now();
    const next = nextTickAt(now, s.attempts, options);
    s.nextCheck = next;
    if (!(await condition(() => s.pending.length > 0, next - now))) tickDue = next;
  }

  // ---- the process ------------------------------------------------------------------------------------------------
  async function handleOperator(op: PendingOperation): Promise<void> {
    let outcome: string;
    if (op.kind === 'cancel') {
      setPhase('cancelled');
      outcome = 'cancelled';
    } else {
      const snapshot = await read();
      outcome = forceOutcome(await apply(snapshot, { kind: 'operator', operator: op.operator, reason: op.reason }));
    }
    s.decisions.push({
      kind: op.kind,
      operator: op.operator,
      reason: op.reason,
      at: iso(Date.now())!,
      result: outcome,
    });
    results.set(op.id, outcome);
  }

  async function waitingStep(): Promise<void> {
    if (Date.now() - s.waitingSince >= options.maxWaitSeconds * 1000) {
      return needDecision(
        'max-wait',
        [],
        `still locked after ${Math.round(options.maxWaitSeconds / 3600)} h (Vault state ${s.vaultState})`,
      );
    }
    const snapshot = await read();
    if (!snapshot.found) {
      setPhase('failed');
      return alert('not-found', 'record no longer found in Vault');
    }
    if (snapshot.locked) {
      if (s.phase !== 'waiting-for-unlock') setPhase('waiting-for-unlock');
      return sleepUntilNextTick();
    }
    let conflicts = conflictingFields(snapshot.values, s.baseline, s.desired, same);
    if (conflicts.length && patched(OWN_WRITES_ARE_NOT_EDITS)) {
      // A value capa-sync itself wrote after the baseline was read (an earlier run, an overlapping batch) is ours,
      // not a reviewer's; where it came from a newer source than ours, ours is stale and is not written.
      const written = await acts.lastOwnWrites({ object, recordId, fields: conflicts, since: input.sourceTimestamp });
      const { ours, newer } = ownWrites(conflicts, snapshot.values, written, s.sourceTimestamp, same);
      s.desired = Object.fromEntries(Object.entries(s.desired).filter(([f]) => !newer.includes(f)));
      conflicts = conflicts.filter((f) => !ours.includes(f));
      if (!Object.keys(s.desired).length) return setPhase('applied'); // Vault holds newer values of ours throughout
    }
    if (conflicts.length) {
      const detail = conflictDetail(conflicts, s, snapshot.values);
      return needDecision('conflict', conflicts, `changed by hand during the lock: ${detail}`);
    }
    const result = await apply(snapshot, { kind: 'integration' });
    if (result.status === 'locked') await sleepUntilNextTick(); // raced with a new lock
  }

  publish();
  while (!TERMINAL_STATES.includes(s.phase)) {
    const op = s.pending.shift();
    if (op) {
      await handleOperator(op);
      continue;
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= options.historyEventLimit) {
      await condition(allHandlersFinished);
      s.runs++;
      return continueAsNew<typeof capaRecordWorkflow>({ ...input, carried: s });
    }
    if (s.phase === 'needs-decision') await condition(() => s.pending.length > 0 || s.phase !== 'needs-decision');
    else await waitingStep();
  }
  // Pending operations that arrived too late are answered, so no Update caller waits forever.
  for (const op of s.pending.splice(0)) results.set(op.id, `record is already ${s.phase}`);
  await condition(allHandlersFinished);
  // The batch rows handed to this workflow say what became of them, as its status in Temporal does.
  if (patched(SETTLE_ROWS_IN_THE_STORE)) await acts.settleRecord({ workflowId, batchId: s.batchId, state: s.phase });
  if (late && patched(NEW_RUN_FOR_LATE_VALUES)) {
    // As if the values had come just after this run closed: a new run, which knows what this one wrote.
    const written = s.phase === 'applied' ? s.desired : {};
    return continueAsNew<typeof capaRecordWorkflow>({
      object,
      recordId,
      options,
      ...late,
      baseline: { ...late.baseline, ...written },
    });
  }
  return { recordId, state: s.phase, attempts: s.attempts, decisions: s.decisions };
}
