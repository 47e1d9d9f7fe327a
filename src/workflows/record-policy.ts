import type { FieldValues } from '../contracts/field-values';
import { operatorProblem } from '../contracts/decisions';
import {
  CarriedState,
  LadderStep,
  LockHold,
  OperatorDecision,
  RecordStatus,
  RecordWorkflowOptions,
  TERMINAL_PHASES,
} from '../contracts/record-messages';

// The record workflow's decisions as pure functions of its state: unit-tested without a server (see
// test/record-policy.test.ts), and free of Temporal calls. The conflict guard is in contracts/conflict-guard.ts.

const DAY_MS = 24 * 3600 * 1000;

/**
 * When the next tick is: the interval backs off (5, 15, 30, 60 minutes by default) and ticks are aligned to the
 * wall clock, so that every waiting record wakes at the same moments and their reads share one query.
 */
export function nextTickAt(now: number, attempts: number, options: RecordWorkflowOptions): number {
  const schedule = options.tickScheduleSeconds;
  const step = Math.min(Math.floor(attempts / options.ticksPerStep), schedule.length - 1);
  const intervalMs = schedule[step] * 1000;
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}

/**
 * When a watched record wakes by itself: after the safety interval, or when it has waited the maximum, whichever is
 * first. The watcher tells it of any change before.
 */
export const safetyCheckAt = (now: number, waitingSince: number, options: RecordWorkflowOptions): number =>
  Math.min(now + options.safetyCheckSeconds * 1000, Math.max(now, waitingSince + options.maxWaitSeconds * 1000));

/** Why an operator's force or cancel is refused, if it is. */
export function decisionProblem(d: OperatorDecision, phase: CarriedState['phase']): string | undefined {
  return operatorProblem(d) ?? (TERMINAL_PHASES.includes(phase) ? `record is already ${phase}` : undefined);
}

/** What a force answers when Vault still locks a record that had waited the maximum: it waits again. */
export const STILL_LOCKED_AGAIN = 'still locked: waiting again, up to the maximum wait';

/** A permanent failure as its alert names it: Vault's error type and message. */
export const failureDetail = (result: { errorType?: string; message?: string }): string =>
  `${result.errorType ?? 'error'}: ${result.message ?? ''}`.trim();

/** What a forced write answers the operator. */
export const forceOutcome = (result: { status: string; errorType?: string; message?: string }): string =>
  result.status === 'locked'
    ? 'still locked: waiting'
    : result.status === 'permanent'
      ? `failed: ${result.errorType ?? ''} ${result.message ?? ''}`.trim()
      : result.status === 'not-found'
        ? 'failed: record no longer found in Vault'
        : 'applied';

/** Whether an alert for this reason is due: not repeated within a day. */
export const alertDue = (alertsSent: Record<string, number>, reason: string, now: number): boolean =>
  alertsSent[reason] === undefined || now - alertsSent[reason] >= DAY_MS;

/** What a conflict alert says about each field. */
export const conflictDetail = (fields: string[], s: Pick<CarriedState, 'baseline' | 'desired'>, current: FieldValues) =>
  fields.map((f) => `${f}: was ${fmt(s.baseline[f])}, now ${fmt(current[f])}, desired ${fmt(s.desired[f])}`).join('; ');

/** The status query's answer. */
export function statusView(
  s: CarriedState,
  ids: { workflowId: string; object: string; recordId: string },
): RecordStatus {
  return {
    ...ids,
    phase: s.phase,
    vaultState: s.vaultState,
    lockedBy: s.lockedBy,
    lockedSince: s.phase === 'waiting-for-unlock' ? iso(s.hold?.since) : undefined,
    team: s.routing?.team,
    nextEscalation: escalationView(nextEscalation(s)),
    needsDecision: s.needsDecision,
    desired: s.desired,
    baseline: s.baseline,
    sourceTimestamp: s.sourceTimestamp,
    batchId: s.batchId,
    waitingSince: iso(s.waitingSince)!,
    lastCheck: iso(s.lastCheck),
    nextCheck: s.phase === 'waiting-for-unlock' ? iso(s.nextCheck) : undefined, // no tick is planned otherwise
    watched: s.watched,
    attempts: s.attempts,
    decisions: s.decisions,
    runs: s.runs,
  };
}

/** The next step of the ladder for the lock the record waits out, and when it is due (none once all are sent). */
export function nextEscalation(s: CarriedState): { step: LadderStep['step']; at: number } | undefined {
  const step = s.hold && s.phase === 'waiting-for-unlock' ? s.routing?.ladder[s.hold.stepsSent] : undefined;
  return step && { step: step.step, at: s.hold!.since + step.afterSeconds * 1000 };
}

/**
 * When the ladder next asks who holds the lock: at its next step, or, all sent, a first step's interval after it
 * last asked (a new holder starts the ladder again). None without a lock or a ladder.
 */
export function ladderCheckAt(s: CarriedState): number | undefined {
  const ladder = s.routing?.ladder;
  if (!s.hold || !ladder?.length) return undefined;
  const next = nextEscalation(s)?.at;
  if (next !== undefined || s.hold.holderUnknown) return next;
  return (s.hold.checkedAt ?? s.hold.since) + ladder[0].afterSeconds * 1000;
}

/** The latest of the ladder's steps due by now that was not sent for this hold. */
export function dueStep(ladder: LadderStep[], hold: LockHold, now: number): number | undefined {
  let due: number | undefined;
  for (let i = hold.stepsSent; i < ladder.length && hold.since + ladder[i].afterSeconds * 1000 <= now; i++) due = i;
  return due;
}

const escalationView = (next: ReturnType<typeof nextEscalation>) => next && { step: next.step, at: iso(next.at)! };

/** What a ladder step says about the lock: who holds it, in which state, and for how long. */
export function lockDetail(hold: LockHold, now: number): string {
  const days = Math.floor((now - hold.since) / DAY_MS);
  const hours = Math.floor(((now - hold.since) % DAY_MS) / 3_600_000);
  const who = hold.holder ? `locked by ${hold.holder}` : 'locked';
  return `${who} in Vault state ${hold.state ?? 'unknown'} since ${iso(hold.since)} (${days} d ${hours} h)`;
}

const fmt = (v: unknown) => JSON.stringify(v ?? null);
export const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
