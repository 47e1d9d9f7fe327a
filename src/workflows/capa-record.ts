import {
  ActivityFailure,
  type ActivityOptions,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FieldValues } from '../contracts/field-values';
import type {
  Actor,
  ApplyChangeInput,
  GuardedWriteResult,
  RecordActivities,
  RecordAlertReason,
  NotRead,
  RecordSnapshot,
  Tick,
} from '../contracts/record-activities';
import { wasRead } from '../contracts/record-activities';
import type { WriteOutcome } from '../contracts/write-outcome';
import { activityOptions } from '../contracts/activity-timeouts';
import { CapaLockHolder, recordSearchAttributes } from '../contracts/search-attributes';
import { recordDetails } from '../contracts/workflow-descriptions';
import {
  type LockChange,
  type LockNews,
  isLockNews,
  WATCHER_HEALTHY_TICKS,
  WATCHER_SLACK_SECONDS,
} from '../contracts/lock-watch';
import { conflictingFields, ownWrites } from '../contracts/conflict-guard';
import {
  CarriedState,
  DesiredValues,
  NeedsDecisionReason,
  OperatorDecision,
  PendingOperation,
  RecordStatus,
  RecordWorkflowInput,
  RecordWorkflowResult,
  RecordPhase,
  TERMINAL_PHASES,
} from '../contracts/record-messages';
import {
  alertDue,
  conflictDetail,
  decisionProblem,
  failureDetail,
  forceOutcome,
  iso,
  dueStep,
  ladderCheckAt,
  lockDetail,
  nextTickAt,
  safetyCheckAt,
  STILL_LOCKED_AGAIN,
  statusView,
} from './record-policy';
import { trimmedDecision } from '../contracts/decisions';

/**
 * From this patch on, a waiting record reads, guards and writes in one activity (guardedWrite), the watcher's word
 * being only a trigger; runs started before replay their earlier steps on the old path (kept below, marked so).
 */
export const GUARDED_WRITES = 'guarded-writes';

/** From this patch on, a waiting record with a team's escalation ladder sends its steps while the lock holds. */
export const ESCALATION_LADDER = 'escalation-ladder';

/**
 * From this patch on, a run its batch handed to the lock watcher starts watched, without a first check (at 200,000
 * records handed off, those checks were what kept the worker busy: a store query and two workflow tasks each).
 */
export const HANDED_TO_WATCHER = 'handed-to-watcher';

/** From this patch on, a word from an older watcher tick that arrives after a newer one's is dropped. */
export const NEWEST_LOCK_NEWS = 'newest-lock-news';

/**
 * A run that starts with this patch takes every patch above without recording it, and upserts only the search
 * attributes that change. Each patch the SDK records also upserts TemporalChangeVersion, and each upsert is one more
 * visibility write on the server: a handed record's first workflow task wrote three markers and four upserts (the
 * fourth repeating the attributes it was started with), where it now writes one of each.
 */
export const CURRENT_RECORD = 'current-record';

/** The patches CURRENT_RECORD stands for. */
type RecordPatch =
  typeof GUARDED_WRITES | typeof ESCALATION_LADDER | typeof HANDED_TO_WATCHER | typeof NEWEST_LOCK_NEWS;

/**
 * One CAPA record whose update Vault refused because a lifecycle workflow locks it: its state (carried over
 * continue-as-new) and its transitions. The record workflow (record.ts) wires the messages to `submit`,
 * `setDesiredValues` and `status`, and runs `step` until the record has ended.
 *
 *   waiting-for-unlock --(tick: read; still locked)--> waiting-for-unlock
 *   waiting-for-unlock --(unlocked; a reviewer's edit)--> needs-decision --(force | cancel)--> ...
 *   waiting-for-unlock --(unlocked; no conflict)--> applying --> applied | failed | waiting-for-unlock (locked again)
 *   waiting longer than the maximum --> needs-decision; an operator's force or cancel at any time.
 */
export class CapaRecord {
  private readonly s: CarriedState;
  private readonly workflowId = workflowInfo().workflowId;
  /** Answers to operator Updates, by operation id. */
  private readonly answers = new Map<number, string>();
  /** Newer values that arrived once this run had reached its end: the next run writes them. */
  private late?: DesiredValues;
  /** The tick a timer woke this workflow for: its read says so, to merge with the other records' of that tick. */
  private tickDue?: number;
  /** This run's batch read the record locked and handed it to the watcher, a read no step has used yet. */
  private handedReadUnused: boolean;
  private readonly acts: RecordActivities;
  private readonly activityOptions: ActivityOptions;
  /** Whether this run started with CURRENT_RECORD (asked once, at its start: a run started before keeps its path). */
  private readonly current = patched(CURRENT_RECORD);

  constructor(private readonly input: RecordWorkflowInput) {
    this.s = input.carried ?? {
      phase: 'waiting-for-unlock',
      desired: input.desired,
      baseline: input.baseline,
      sourceTimestamp: input.sourceTimestamp,
      batchId: input.batchId,
      vaultState: input.vaultState,
      routing: input.routing,
      // The batch saw the record locked: the ladder counts from now (or from locked_since, once the lock is read).
      hold: { state: input.vaultState, since: Date.now(), stepsSent: 0 },
      waitingSince: Date.now(),
      attempts: 0,
      decisions: [],
      pending: [],
      alertsSent: {},
      operationSeq: 0,
      runs: 0,
    };
    this.activityOptions = activityOptions({
      timeout: '2 minutes',
      initialInterval: '1 second',
      maxInterval: `${input.options.activityMaxIntervalSeconds} seconds`,
    });
    this.acts = proxyActivities<RecordActivities>(this.activityOptions);
    this.handedReadUnused = !!input.handedToWatcher && input.vaultState !== undefined && !input.carried;
    this.publish();
  }

  get ended(): boolean {
    return TERMINAL_PHASES.includes(this.s.phase);
  }

  // ---- messages -------------------------------------------------------------------------------------------------
  /** Refuses a decision without operator or reason, or for a record that has ended (an Update's validator). */
  validate(d: OperatorDecision): void {
    const problem = decisionProblem(d, this.s.phase);
    if (problem) throw new Error(problem);
  }

  /** An operator's force or cancel, queued for the loop; resolves with what it did. */
  async submit(kind: PendingOperation['kind'], d: OperatorDecision, via: PendingOperation['via'] = 'update') {
    const id = ++this.s.operationSeq;
    const origin = via === 'update' && d.origin ? { origin: d.origin } : {};
    const { operator, reason } = trimmedDecision(d);
    this.s.pending.push({ id, kind, operator, reason, via, ...origin });
    await condition(() => this.answers.has(id));
    return this.answers.get(id)!;
  }

  /**
   * The same from a signal (the Web UI's form), which has no caller to answer and says nothing of where it came
   * from: an invalid one is ignored (the Update form says why).
   */
  submitSignal(kind: PendingOperation['kind'], d: OperatorDecision): void {
    try {
      this.validate(d);
    } catch {
      return;
    }
    void this.submit(kind, d, 'signal');
  }

  /**
   * The lock watcher saw the record's state change: the waiting step acts on it at once, reading Vault again before
   * it writes. A record that is not waiting for an unlock (it waits for a decision, or writes) drops it: the
   * watcher listed it a moment too early. Told again before it acted, it keeps the newest tick's word: an attempt
   * cut off from Temporal may deliver an older tick's after it.
   */
  lockChanged(change: LockNews | LockChange): void {
    const s = this.s;
    s.watched = true;
    if (s.phase !== 'waiting-for-unlock') return;
    if (isLockNews(change)) {
      const tick = { at: change.tickAt, attempt: change.attempt ?? 0 };
      const older = s.toldTick && (tick.at - s.toldTick.at || tick.attempt - s.toldTick.attempt) < 0;
      if (older && this.patched(NEWEST_LOCK_NEWS)) return;
      if (!older) s.toldTick = tick;
      s.told = change;
    } else s.lockChange = { ...change, tick: s.lockChange?.tick ?? change.tick }; // before GUARDED_WRITES
  }

  /** Newer values from a later batch; the newest source wins. */
  setDesiredValues(update: DesiredValues): void {
    const s = this.s;
    if (update.sourceTimestamp <= (this.late ?? s).sourceTimestamp) return;
    if (this.ended) {
      this.late = update;
      return;
    }
    s.desired = update.desired;
    s.baseline = { ...update.baseline, ...s.baseline }; // the first baseline seen for a field is what a reviewer changed
    s.sourceTimestamp = update.sourceTimestamp;
    s.batchId = update.batchId;
    if (update.routing) {
      // Another team's ladder starts from its first step (for the same hold: the lock's clock goes on).
      if (s.hold && update.routing.team !== s.routing?.team) s.hold.stepsSent = 0;
      s.routing = update.routing;
    }
    if (s.needsDecision?.reason === 'conflict') {
      this.setPhase('waiting-for-unlock');
      s.recheck = true; // against the new values, at once
    }
  }

  status(): RecordStatus {
    const { object, recordId } = this.input;
    return statusView(this.s, { workflowId: this.workflowId, object, recordId });
  }

  // ---- the loop's transitions -----------------------------------------------------------------------------------
  /** One step: an operator's decision first, else wait for one, else the waiting step (read, guard, apply). */
  async step(): Promise<void> {
    const handedRead = this.handedReadStands(); // for the run's first step only, whatever it does
    const op = this.s.pending.shift();
    if (op) return this.decide(op);
    if (this.s.phase === 'needs-decision') {
      await condition(() => this.s.pending.length > 0 || this.s.phase !== 'needs-decision');
      return;
    }
    return this.waitingStep(handedRead);
  }

  /** Between steps with no decision pending: when this run's history is long enough to go on in a new run. */
  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return (
      this.s.pending.length === 0 &&
      (info.continueAsNewSuggested || info.historyLength >= this.input.options.historyEventLimit)
    );
  }

  /** The next run's input, carrying this one's state. */
  carry(): RecordWorkflowInput {
    this.s.runs++;
    return { ...this.input, carried: this.s };
  }

  /**
   * The record has ended: late decisions are answered, the batch rows handed to this workflow are settled in the
   * store, and values that came after the end make the input of a new run (which knows what this one wrote).
   */
  async finish(): Promise<RecordWorkflowInput | undefined> {
    for (const op of this.s.pending.splice(0)) this.answers.set(op.id, `record is already ${this.s.phase}`);
    await condition(allHandlersFinished);
    const { object, recordId, options } = this.input;
    await this.acts.settleRecord({
      ...{ workflowId: this.workflowId, batchId: this.s.batchId, resolution: this.resolution() },
      ...{ object, recordId },
    });
    if (!this.late) return undefined;
    const written = this.s.phase === 'applied' ? this.s.desired : {};
    return { object, recordId, options, ...this.late, baseline: { ...this.late.baseline, ...written } };
  }

  /** What the batch rows handed to this workflow report: the end state, and for a cancel who and why. */
  private resolution(): string {
    const cancel = this.s.phase === 'cancelled' && [...this.s.decisions].reverse().find((d) => d.kind === 'cancel');
    return cancel ? `cancelled by ${cancel.operator}: ${cancel.reason}` : this.s.phase;
  }

  result(): RecordWorkflowResult {
    const { phase, attempts, decisions } = this.s;
    return { recordId: this.input.recordId, phase, attempts, decisions };
  }

  // ---- locked -> wait -> apply --------------------------------------------------------------------------------------
  private async waitingStep(handedRead: boolean): Promise<void> {
    const s = this.s;
    const { options } = this.input;
    if (Date.now() - s.waitingSince >= options.maxWaitSeconds * 1000) {
      const hours = Math.round(options.maxWaitSeconds / 3600);
      return this.needDecision('max-wait', [], `still locked after ${hours} h (Vault state ${s.vaultState})`);
    }
    if (this.patched(GUARDED_WRITES)) return this.guardedStep(handedRead);
    return this.snapshotStep();
  }

  /**
   * Acts on the watcher's word, a re-check (new values), or a timer: a new lock state is only shown; anything else
   * is one guarded write, which reads Vault right before it writes (and, woken by a timer, reads nothing where the
   * watcher read the record lately).
   */
  private async guardedStep(handedRead: boolean): Promise<void> {
    const s = this.s;
    // The watcher's word from before GUARDED_WRITES (a run that moved onto this path) counts as news, its read unused.
    const legacy = s.lockChange && { tickAt: s.lockChange.tick.at, ...s.lockChange.snapshot };
    const news = s.told ?? legacy;
    s.told = undefined;
    s.lockChange = undefined;
    if (news?.found && news.locked) {
      const since = 'lockedSince' in news ? news.lockedSince : undefined;
      this.noteState(news.state, { locked: true, by: news.lockedBy, since });
      return this.sleepUntilNextTick();
    }
    const byTimer = !news && !s.recheck;
    s.recheck = false;
    if (byTimer && handedRead) {
      // The batch's read (locked, a moment ago) is this check's: the watcher tells the record of a change.
      s.watched = true;
      return this.sleepUntilNextTick();
    }
    if (!byTimer) this.setPhase('applying'); // told of an unlock, or new values to write: a write is likely
    const result = await this.guardedWrite({ kind: 'integration' }, byTimer);
    if (result.status === 'watched' || news) s.watched = true;
    else if (byTimer) s.watched = false; // nobody read it lately: it polls by itself until the watcher does again
    if (result.status === 'watched' || result.status === 'locked') return this.sleepUntilNextTick();
  }

  /**
   * One guarded write (guardedWrite: read, guard, write, audit together) and the transition its answer makes. Woken
   * by a timer (`unlessWatched`), it reads nothing where the watcher or the record itself read Vault lately.
   */
  private async guardedWrite(actor: Actor, unlessWatched = false): Promise<GuardedWriteResult> {
    const s = this.s;
    const { object, recordId, options } = this.input;
    const { desired, sourceTimestamp } = s;
    const lately = Date.now() - (WATCHER_HEALTHY_TICKS * options.tickScheduleSeconds[0] + WATCHER_SLACK_SECONDS) * 1000;
    const result = await this.acts.guardedWrite({
      ...{ object, recordId, batchId: s.batchId, desired, baseline: s.baseline, sourceTimestamp, actor },
      ownWritesSince: this.input.sourceTimestamp,
      // A run that never saw the record's state (values that came after the last run ended) reads it, whatever the
      // watcher told the run before.
      // Its own reads never stand in for the watcher's: a record the watcher passes over reads at each of its ticks.
      ...(unlessWatched && s.vaultState !== undefined
        ? { unlessReadSince: lately, ...(s.lastCheck === undefined ? { ownReadAt: s.waitingSince } : {}) }
        : {}),
    });
    if (result.status === 'watched') return result;
    s.attempts++;
    s.lastCheck = Date.now();
    if (result.status === 'not-found') {
      this.setPhase('failed');
      await this.alert('not-found', 'record no longer found in Vault');
      return result;
    }
    const locked = result.status === 'locked';
    this.noteState(result.state, locked ? { locked, by: result.lockedBy, since: result.lockedSince } : { locked });
    if (result.status === 'locked') {
      if (s.phase !== 'waiting-for-unlock') this.setPhase('waiting-for-unlock');
    } else if (result.status === 'conflict') {
      const detail = conflictDetail(result.fields, s, result.values);
      await this.needDecision('conflict', result.fields, `changed by hand during the lock: ${detail}`, result.values);
    } else if (result.status === 'permanent') {
      this.setPhase('failed');
      await this.alert('permanent-failure', failureDetail(result));
    } else if (s.sourceTimestamp !== sourceTimestamp) {
      // Newer values came while this write was in flight: they are written next, at once, and what Vault now holds
      // is our own write, not a reviewer's edit.
      s.baseline = { ...s.baseline, ...desired };
      s.recheck = true;
      this.setPhase('waiting-for-unlock');
    } else {
      // Fields where Vault holds newer values of our own are not ours to write any more.
      s.desired = Object.fromEntries(Object.entries(desired).filter(([f]) => !result.stale.includes(f)));
      this.setPhase('applied');
    }
    return result;
  }

  /** Whether this is the run's first step and its batch's read, handed to the watcher, stands for its check. */
  private handedReadStands(): boolean {
    const unused = this.handedReadUnused;
    this.handedReadUnused = false;
    return unused && this.patched(HANDED_TO_WATCHER);
  }

  /** An operator's force: read and write in one activity, past the conflict guard. */
  private async forcedWrite(actor: Actor): Promise<GuardedWriteResult> {
    this.setPhase('applying');
    return this.guardedWrite(actor);
  }

  /** Before GUARDED_WRITES: the guard ran here on a read made by another activity (runs started before replay it). */
  private async snapshotStep(): Promise<void> {
    const s = this.s;
    const { object, recordId } = this.input;
    const { snapshot, tick } = await this.watchedOrRead();
    if (!wasRead(snapshot)) return this.sleepUntilNextTick();
    if (!snapshot.found) {
      this.setPhase('failed');
      return this.alert('not-found', 'record no longer found in Vault');
    }
    if (snapshot.locked) {
      if (s.phase !== 'waiting-for-unlock') this.setPhase('waiting-for-unlock');
      return this.sleepUntilNextTick();
    }
    let conflicts = conflictingFields(snapshot.values, s.baseline, s.desired);
    if (conflicts.length) {
      // A value capa-sync itself wrote after the baseline was read (an earlier run, an overlapping batch) is ours,
      // not a reviewer's; where it came from a newer source than ours, ours is stale and is not written.
      const since = this.input.sourceTimestamp;
      const written = await this.acts.lastOwnWrites({ object, recordId, fields: conflicts, since });
      const { ours, newer } = ownWrites(conflicts, snapshot.values, written, s.sourceTimestamp);
      s.desired = Object.fromEntries(Object.entries(s.desired).filter(([f]) => !newer.includes(f)));
      conflicts = conflicts.filter((f) => !ours.includes(f));
      if (!Object.keys(s.desired).length) return this.setPhase('applied'); // Vault holds newer values of ours throughout
    }
    if (conflicts.length) {
      const detail = conflictDetail(conflicts, s, snapshot.values);
      return this.needDecision('conflict', conflicts, `changed by hand during the lock: ${detail}`, snapshot.values);
    }
    const result = await this.apply(snapshot, { kind: 'integration' }, tick);
    if (result.status === 'locked') await this.sleepUntilNextTick(); // raced with a new lock
  }

  private async decide(op: PendingOperation): Promise<void> {
    let outcome: string;
    if (op.kind === 'cancel') {
      this.setPhase('cancelled');
      outcome = 'cancelled';
    } else {
      const afterMaxWait = this.s.needsDecision?.reason === 'max-wait';
      const actor: Actor = { kind: 'operator', operator: op.operator, reason: op.reason };
      const result = this.patched(GUARDED_WRITES)
        ? await this.forcedWrite(actor)
        : await this.apply(await this.read(), actor);
      outcome = forceOutcome(result);
      if (result.status === 'locked' && afterMaxWait) {
        // The operator wants the change: the wait starts again (reading on its ticks), and so does its alert.
        this.s.waitingSince = Date.now();
        delete this.s.alertsSent['max-wait'];
        outcome = STILL_LOCKED_AGAIN;
      }
    }
    // Kept in the audit trail, beyond this workflow's history and Temporal's retention.
    const { operator, reason, via } = op;
    const auditAnchor = await this.acts.recordDecision({
      ...{ object: this.input.object, recordId: this.input.recordId, workflowId: this.workflowId },
      ...{ batchId: this.s.batchId, decision: op.kind, operator, reason, origin: { via, ...op.origin } },
      ...{ outcome, values: this.s.desired, sourceTimestamp: this.s.sourceTimestamp },
    });
    this.s.decisions.push({ kind: op.kind, operator, reason, at: iso(Date.now())!, result: outcome, auditAnchor });
    this.answers.set(op.id, outcome);
  }

  /**
   * What the waiting step acts on: the watcher's read where it told this record of a change (the record's values
   * when it unlocked, so that the guard checks what the watcher read with the tick's others), else this record's
   * own read, or nothing (`watched`) where the watcher ticks for the object; with the watcher's tick, whose writes
   * go together.
   */
  private async watchedOrRead(): Promise<{ snapshot: RecordSnapshot | NotRead; tick?: Tick }> {
    const s = this.s;
    const change = s.lockChange;
    s.lockChange = undefined;
    if (!change) return { snapshot: await this.read({ unlessWatched: true }) };
    const { snapshot, tick } = change;
    const complete = Object.keys(s.desired).every((f) => f in snapshot.values);
    if (!snapshot.locked && snapshot.found && !complete) return { snapshot: await this.read({ tick }), tick };
    return { snapshot: this.saw(snapshot), tick };
  }

  /** Reads the record; asked `unlessWatched`, reads nothing where the watcher ticks for the object. */
  private async read(o: { unlessWatched: true }): Promise<RecordSnapshot | NotRead>;
  private async read(o?: { tick?: Tick }): Promise<RecordSnapshot>;
  private async read(o: { tick?: Tick; unlessWatched?: boolean } = {}): Promise<RecordSnapshot | NotRead> {
    const s = this.s;
    const tick = o.tick ?? (this.tickDue === undefined ? undefined : { at: this.tickDue });
    this.tickDue = undefined;
    const { object, recordId } = this.input;
    const fields = Object.keys(s.desired);
    const snapshot = await this.acts.readRecord({ object, recordId, fields, tick, unlessWatched: o.unlessWatched });
    if (o.unlessWatched) s.watched = !wasRead(snapshot);
    return wasRead(snapshot) ? this.saw(snapshot) : snapshot;
  }

  /** Notes a read of the record (its own, or the watcher's). */
  private saw(snapshot: RecordSnapshot): RecordSnapshot {
    this.s.attempts++;
    this.s.lastCheck = Date.now();
    this.noteState(snapshot.state, { locked: snapshot.locked, by: snapshot.lockedBy });
    return snapshot;
  }

  /**
   * Notes the record's Vault state and its lock (who holds it, since when): a change is published at once, and a new
   * holder or state starts the escalation ladder again.
   */
  private noteState(state: string | undefined, lock: { locked: boolean; by?: string; since?: string }): void {
    const s = this.s;
    // A read that names no holder (its state locks it: the lock endpoint was not asked) keeps the one known.
    const by = lock.by ?? (lock.locked && state === s.vaultState && this.routed() ? s.lockedBy : undefined);
    const changed = state !== s.vaultState || (by !== s.lockedBy && this.routed());
    s.vaultState = state;
    s.lockedBy = by;
    if (!lock.locked) s.hold = undefined;
    else {
      const parsed = lock.since === undefined ? NaN : Date.parse(lock.since);
      const since = Number.isNaN(parsed) ? undefined : parsed;
      if (!s.hold || s.hold.state !== state || (s.hold.holder !== undefined && s.hold.holder !== by))
        s.hold = { state, holder: by, since: since ?? Date.now(), stepsSent: 0 };
      else if (s.hold.holder === undefined && by !== undefined) {
        // The holder of this hold, learned: not a new one (its own locked_since is the truer start).
        s.hold.holder = by;
        s.hold.since = since ?? s.hold.since;
      }
    }
    // Every step after a read publishes or describes the record (phase change, next tick), with this check's time.
    if (changed) this.publish();
  }

  private async apply(snapshot: RecordSnapshot, actor: Actor, tick?: Tick): Promise<WriteOutcome> {
    const s = this.s;
    this.setPhase('applying');
    const { desired: values, sourceTimestamp } = s;
    const previous = Object.fromEntries(Object.keys(values).map((f) => [f, snapshot.values[f] ?? null]));
    const { object, recordId } = this.input;
    const change = { object, recordId, workflowId: this.workflowId, values, previous, batchId: s.batchId };
    const result = await this.write({ ...change, sourceTimestamp, actor }, tick);
    if (result.status === 'updated' || result.status === 'unchanged') {
      // Newer values came while this write was in flight: they are written next, and what Vault now holds is
      // our own write, not a reviewer's edit.
      if (s.sourceTimestamp !== sourceTimestamp) {
        s.baseline = { ...s.baseline, ...values };
        this.setPhase('waiting-for-unlock');
      } else this.setPhase('applied');
    } else if (result.status === 'locked') this.setPhase('waiting-for-unlock');
    else {
      this.setPhase('failed');
      await this.alert('permanent-failure', failureDetail(result));
    }
    return result;
  }

  /**
   * Writes: where a watcher's tick found the record unlocked, on that tick's worker process, with the tick's other
   * writes; if that process is gone (nobody takes the write within a minute), here like any other write.
   */
  private async write(change: ApplyChangeInput, tick?: Tick): Promise<WriteOutcome> {
    if (!tick?.taskQueue) return this.acts.applyChange({ ...change, tick });
    const onTickWorker = proxyActivities<RecordActivities>({
      ...this.activityOptions,
      taskQueue: tick.taskQueue,
      scheduleToStartTimeout: '1 minute',
    });
    try {
      return await onTickWorker.applyChange({ ...change, tick });
    } catch (err) {
      const timeout = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure ? err.cause : undefined;
      if (timeout?.timeoutType !== 'SCHEDULE_TO_START') throw err;
      return this.acts.applyChange(change);
    }
  }

  /**
   * Waits for the next check: a watched record for the watcher's word (or its safety check), any other for its own
   * next tick; an operator's decision wakes either.
   */
  private async sleepUntilNextTick(): Promise<void> {
    const s = this.s;
    const { options } = this.input;
    const ladder = !!s.routing?.ladder.length && this.routed();
    if (ladder) await this.climbLadder();
    const now = Date.now();
    const next = s.watched ? safetyCheckAt(now, s.waitingSince, options) : nextTickAt(now, s.attempts, options);
    s.nextCheck = next;
    this.describe();
    const wake = Math.min(next, (ladder && ladderCheckAt(s)) || next);
    const woken = await condition(
      () => s.pending.length > 0 || s.told !== undefined || s.lockChange !== undefined,
      Math.max(0, wake - now),
    );
    if (!woken && !s.watched) this.tickDue = next;
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

  private async alert(reason: RecordAlertReason, detail: string): Promise<void> {
    const s = this.s;
    if (!alertDue(s.alertsSent, reason, Date.now())) return;
    s.alertsSent[reason] = Date.now();
    await this.sendAlert(reason, detail);
  }

  /** A record with a team (handed over by a batch since routing): it publishes its holder and climbs its ladder. */
  private routed(): boolean {
    return !!this.s.routing && this.patched(ESCALATION_LADDER);
  }

  private async sendAlert(reason: RecordAlertReason, detail: string): Promise<void> {
    const { object, recordId } = this.input;
    const { vaultState, lockedBy, batchId, routing } = this.s;
    await this.acts.sendRecordAlert({
      ...{ reason, object, recordId, workflowId: this.workflowId, vaultState, lockedBy, batchId, detail },
      ...(routing ? { team: routing.team } : {}),
    });
  }

  /**
   * The escalation ladder, when it is due: asks the lock endpoint who holds the lock (a new holder starts the ladder
   * again), then sends the step due for this hold, once (the latest, where several are: a lock first read long after
   * it was taken). It only tells people: forcing or cancelling stays their decision. The record's own reads decide
   * whether it is locked; the lock endpoint only names who holds it.
   */
  private async climbLadder(): Promise<void> {
    const s = this.s;
    const at = ladderCheckAt(s);
    if (!s.hold || at === undefined || at > Date.now()) return;
    s.hold.checkedAt = Date.now();
    const { object, recordId } = this.input;
    const lock = await this.acts.readLockHolder({ object, recordId });
    if (lock?.locked) this.noteState(s.vaultState, { locked: true, by: lock.lockedBy, since: lock.lockedSince });
    // Nobody says who holds it (no lock endpoint, or it did not answer): after the last step there is nothing to ask.
    else s.hold.holderUnknown = true;
    const hold = s.hold!;
    const due = dueStep(s.routing!.ladder, hold, Date.now());
    if (due === undefined) return;
    hold.stepsSent = due + 1;
    const { step } = s.routing!.ladder[due];
    await this.sendAlert(step === 'remind' ? 'lock-reminder' : 'lock-escalation', lockDetail(hold, Date.now()));
  }

  // ---- what the Web UI shows ----------------------------------------------------------------------------------------
  private setPhase(phase: RecordPhase, needsDecision?: CarriedState['needsDecision']): void {
    this.s.phase = phase;
    this.s.needsDecision = needsDecision;
    this.publish();
  }

  /** Search attributes (to find the record) and current details (to see what it waits for). */
  private publish(): void {
    const { phase, batchId, vaultState, routing, lockedBy } = this.s;
    const recordId = this.input.recordId;
    const routed = this.routed();
    const team = routed && { team: routing!.team, holder: lockedBy };
    const attributes = recordSearchAttributes({ phase, recordId, batchId, vaultState, ...team });
    // A lock that is gone takes its holder off the record's listing.
    const noHolder = routed && !lockedBy ? [{ key: CapaLockHolder, value: null }] : [];
    const updates = [...attributes, ...noHolder];
    const held = workflowInfo().typedSearchAttributes;
    const changed = this.current ? updates.filter(({ key, value }) => (held.get(key) ?? null) !== value) : updates;
    if (changed.length) upsertSearchAttributes(changed);
    this.describe();
  }

  /**
   * Whether one of the patches before CURRENT_RECORD applies to this run: each does to a run that started with it. A
   * later patch is asked with `patched()` itself: runs started on CURRENT_RECORD predate it.
   */
  private patched(patch: RecordPatch): boolean {
    return this.current || patched(patch);
  }

  private describe(): void {
    setCurrentDetails(recordDetails(this.status()));
  }
}
