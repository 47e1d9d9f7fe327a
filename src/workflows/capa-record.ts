import {
  condition,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { recordDetails } from '../contracts/workflow-descriptions';
import type { FieldValues } from '../contracts/field-values';
import type {
  Actor,
  ApplyResult,
  RecordActivities,
  RecordAlertReason,
  RecordSnapshot,
} from '../contracts/record-activities';
import { HEARTBEAT_TIMEOUT_MS } from '../contracts/activity-timeouts';
import {
  alertDue,
  conflictDetail,
  conflictingFields,
  decisionProblem,
  forceOutcome,
  iso,
  nextTickAt,
  ownWrites,
  SameValue,
  statusView,
} from './record-policy';
import { OWN_WRITES_ARE_NOT_EDITS, WRITE_NEWER_VALUES_NEXT } from './record-patches';
import { CapaBatchId, CapaRecordId, CapaSyncState, CapaVaultState } from '../contracts/search-attributes';
import {
  CarriedState,
  DesiredValues,
  NeedsDecisionReason,
  OperatorDecision,
  PendingOperation,
  RecordStatus,
  RecordWorkflowInput,
  SyncState,
  TERMINAL_STATES,
} from '../contracts/record-messages';

/**
 * One CAPA record's state and steps, as the record workflow (record.ts) drives them: reading Vault, applying,
 * alerting, queueing operator decisions. Every field outlives a continue-as-new through `s` (CarriedState), except
 * what belongs to this run only.
 */
export class CapaRecord {
  readonly s: CarriedState;
  private readonly workflowId = workflowInfo().workflowId;
  /** Answers to operator Updates, by operation id. */
  private readonly results = new Map<number, string>();
  /** Newer values that arrived once this run had reached its end: the next run writes them. */
  private late?: DesiredValues;
  /** The tick a timer woke this workflow for: its read says so, to merge with the other records' of that tick. */
  private tickDue?: number;
  private readonly acts: RecordActivities;

  constructor(
    private readonly input: RecordWorkflowInput,
    private readonly same: SameValue,
  ) {
    this.s = input.carried ?? {
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
    this.acts = proxyActivities<RecordActivities>({
      startToCloseTimeout: '2 minutes',
      heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
      retry: {
        initialInterval: '1 second',
        backoffCoefficient: 2,
        maximumInterval: `${input.options.activityMaxIntervalSeconds} seconds`,
      },
    });
  }

  get ended(): boolean {
    return TERMINAL_STATES.includes(this.s.phase);
  }

  // ---- operator messages and newer values ---------------------------------------------------------------------
  validate(d: OperatorDecision): void {
    const problem = decisionProblem(d, this.s.phase);
    if (problem) throw new Error(problem);
  }

  enqueue(kind: PendingOperation['kind'], d: OperatorDecision): number {
    const id = ++this.s.operationSeq;
    this.s.pending.push({ id, kind, operator: d.operator.trim(), reason: d.reason.trim() });
    return id;
  }

  async result(id: number): Promise<string> {
    await condition(() => this.results.has(id));
    return this.results.get(id)!;
  }

  setDesiredValues(update: DesiredValues): void {
    const s = this.s;
    if (update.sourceTimestamp <= (this.late ?? s).sourceTimestamp) return; // newest source wins
    if (this.ended) {
      this.late = update;
      return;
    }
    s.desired = update.desired;
    s.baseline = { ...update.baseline, ...s.baseline }; // the first baseline seen for a field is what a reviewer changed
    s.sourceTimestamp = update.sourceTimestamp;
    s.batchId = update.batchId;
    if (s.needsDecision?.reason === 'conflict') this.setPhase('waiting-for-unlock'); // re-check against the new values
  }

  status(): RecordStatus {
    return statusView(this.s, {
      workflowId: this.workflowId,
      object: this.input.object,
      recordId: this.input.recordId,
    });
  }

  // ---- state changes, visible in the Web UI --------------------------------------------------------------------
  setPhase(phase: SyncState, needsDecision?: CarriedState['needsDecision']): void {
    this.s.phase = phase;
    this.s.needsDecision = needsDecision;
    this.publish();
  }

  publish(): void {
    const s = this.s;
    upsertSearchAttributes([
      { key: CapaSyncState, value: s.phase },
      { key: CapaRecordId, value: this.input.recordId },
      { key: CapaBatchId, value: s.batchId },
      ...(s.vaultState ? [{ key: CapaVaultState, value: s.vaultState }] : []),
    ]);
    setCurrentDetails(recordDetails(this.status()));
  }

  private async alert(reason: RecordAlertReason, detail: string): Promise<void> {
    const s = this.s;
    if (!alertDue(s.alertsSent, reason, Date.now())) return;
    s.alertsSent[reason] = Date.now();
    await this.acts.sendRecordAlert({
      reason,
      object: this.input.object,
      recordId: this.input.recordId,
      workflowId: this.workflowId,
      vaultState: s.vaultState,
      lockedBy: s.lockedBy,
      batchId: s.batchId,
      detail,
    });
  }

  private async needDecision(
    reason: NeedsDecisionReason,
    fields: string[],
    detail: string,
    now?: FieldValues,
  ): Promise<void> {
    this.setPhase('needs-decision', { reason, fields, now });
    await this.alert(reason, detail);
  }

  // ---- Vault ----------------------------------------------------------------------------------------------------
  private async read(): Promise<RecordSnapshot> {
    const s = this.s;
    const tickAt = this.tickDue;
    this.tickDue = undefined;
    const { object, recordId } = this.input;
    const snapshot = await this.acts.readRecord({ object, recordId, fields: Object.keys(s.desired), tickAt });
    s.attempts++;
    s.lastCheck = Date.now();
    const changed = snapshot.state !== s.vaultState;
    s.vaultState = snapshot.state;
    s.lockedBy = snapshot.lockedBy;
    if (changed) this.publish();
    else setCurrentDetails(recordDetails(this.status())); // the last check's time
    return snapshot;
  }

  private async apply(snapshot: RecordSnapshot, actor: Actor): Promise<ApplyResult> {
    const s = this.s;
    this.setPhase('applying');
    const { desired: values, sourceTimestamp } = s;
    const previous = Object.fromEntries(Object.keys(values).map((f) => [f, snapshot.values[f] ?? null]));
    const result = await this.acts.applyChange({
      object: this.input.object,
      recordId: this.input.recordId,
      workflowId: this.workflowId,
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
        this.setPhase('waiting-for-unlock');
      } else this.setPhase('applied');
    } else if (result.status === 'locked') this.setPhase('waiting-for-unlock');
    else {
      this.setPhase('failed');
      await this.alert('permanent-failure', `${result.errorType ?? 'error'}: ${result.message ?? ''}`.trim());
    }
    return result;
  }

  private async sleepUntilNextTick(): Promise<void> {
    const now = Date.now();
    const next = nextTickAt(now, this.s.attempts, this.input.options);
    this.s.nextCheck = next;
    setCurrentDetails(recordDetails(this.status()));
    if (!(await condition(() => this.s.pending.length > 0, next - now))) this.tickDue = next;
  }

  // ---- the steps record.ts runs ----------------------------------------------------------------------------------
  async handleOperator(op: PendingOperation): Promise<void> {
    let outcome: string;
    if (op.kind === 'cancel') {
      this.setPhase('cancelled');
      outcome = 'cancelled';
    } else {
      const snapshot = await this.read();
      outcome = forceOutcome(
        await this.apply(snapshot, { kind: 'operator', operator: op.operator, reason: op.reason }),
      );
    }
    this.s.decisions.push({
      kind: op.kind,
      operator: op.operator,
      reason: op.reason,
      at: iso(Date.now())!,
      result: outcome,
    });
    this.results.set(op.id, outcome);
  }

  async waitForDecision(): Promise<void> {
    await condition(() => this.s.pending.length > 0 || this.s.phase !== 'needs-decision');
  }

  async waitingStep(): Promise<void> {
    const s = this.s;
    const { options, object, recordId } = this.input;
    if (Date.now() - s.waitingSince >= options.maxWaitSeconds * 1000) {
      return this.needDecision(
        'max-wait',
        [],
        `still locked after ${Math.round(options.maxWaitSeconds / 3600)} h (Vault state ${s.vaultState})`,
      );
    }
    const snapshot = await this.read();
    if (!snapshot.found) {
      this.setPhase('failed');
      return this.alert('not-found', 'record no longer found in Vault');
    }
    if (snapshot.locked) {
      if (s.phase !== 'waiting-for-unlock') this.setPhase('waiting-for-unlock');
      return this.sleepUntilNextTick();
    }
    let conflicts = conflictingFields(snapshot.values, s.baseline, s.desired, this.same);
    if (conflicts.length && patched(OWN_WRITES_ARE_NOT_EDITS)) {
      // A value capa-sync itself wrote after the baseline was read (an earlier run, an overlapping batch) is ours,
      // not a reviewer's; where it came from a newer source than ours, ours is stale and is not written.
      const since = this.input.sourceTimestamp;
      const written = await this.acts.lastOwnWrites({ object, recordId, fields: conflicts, since });
      const { ours, newer } = ownWrites(conflicts, snapshot.values, written, s.sourceTimestamp, this.same);
      s.desired = Object.fromEntries(Object.entries(s.desired).filter(([f]) => !newer.includes(f)));
      conflicts = conflicts.filter((f) => !ours.includes(f));
      if (!Object.keys(s.desired).length) return this.setPhase('applied'); // Vault holds newer values of ours throughout
    }
    if (conflicts.length) {
      const detail = conflictDetail(conflicts, s, snapshot.values);
      return this.needDecision('conflict', conflicts, `changed by hand during the lock: ${detail}`, snapshot.values);
    }
    const result = await this.apply(snapshot, { kind: 'integration' });
    if (result.status === 'locked') await this.sleepUntilNextTick(); // raced with a new lock
  }

  // ---- the end of a run --------------------------------------------------------------------------------------------
  /** Pending operations that arrived too late are answered, so no Update caller waits forever. */
  answerLateOperations(): void {
    for (const op of this.s.pending.splice(0)) this.results.set(op.id, `record is already ${this.s.phase}`);
  }

  /** The batch rows handed to this workflow say what became of them, as its status in Temporal does. */
  settle(): Promise<void> {
    return this.acts.settleRecord({ workflowId: this.workflowId, batchId: this.s.batchId, state: this.s.phase });
  }

  /** The input of a new run for values that came after this run's end, which knows what this one wrote. */
  nextRunForLateValues(): RecordWorkflowInput | undefined {
    if (!this.late) return undefined;
    const written = this.s.phase === 'applied' ? this.s.desired : {};
    const { object, recordId, options } = this.input;
    return { object, recordId, options, ...this.late, baseline: { ...this.late.baseline, ...written } };
  }
}
