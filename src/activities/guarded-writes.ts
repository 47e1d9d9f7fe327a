import { ApplicationFailure, Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { FieldValues } from '../contracts/field-values';
import type { GuardedWriteInput, GuardedWriteResult } from '../contracts/record-activities';
import { conflictingFields, ownWrites } from '../contracts/conflict-guard';
import type { Logger } from '../observability/logger';
import { changeEntries, type WriteEntry } from '../store/audit-trail';
import { changedFields, sameFieldValue } from '../contracts/field-values';
import type { Store } from '../store/store';
import type { PendingIntent } from '../store/write-intents';
import { MAX_ROWS_PER_UPDATE, ONE_RECORD_LOCK_READ, type VaultClient } from '../vault/client';
import { NOT_SENT } from '../vault/http';
import { Coalescer } from './coalescer';
import { isLockedState } from '../vault/dialect';
import type { LockInfo, RecordState, RecordWriteOutcome } from '../vault/types';
import { asActivityFailure } from './activity-failures';
import { currentWriteId } from './activity-ids';

export interface GroupWindow {
  /** A group goes out once no record has joined it for this long... */
  quietMs: number;
  /** ...or this long after its first record came. The group reads when it goes out: the hold never ages a read. */
  maxHoldMs: number;
}

export interface GuardedWriteDeps {
  vault: VaultClient;
  store: Store;
  logger: Logger;
  window: GroupWindow;
}

/** One record's guarded write as it waits in its group. */
interface Member {
  input: GuardedWriteInput;
  /** The activity's id across its attempts: its audit entries and intent carry it. */
  writeId: string;
  attempt: number;
  workflowId: string;
  /** Aborted when Temporal gave up on the attempt: it then sends nothing. */
  cancelled: AbortSignal;
}

/** A member's answer, or why its attempt must be retried (the failure stays with its record). */
type Answer = GuardedWriteResult | { status: 'retry'; reason: string };

/** What the guard decided for one record: an answer already, or the values to write and those Vault held. */
type Verdict = { answer: Answer } | { write: FieldValues; before: FieldValues; state: string; stale: string[] };

/** Per-record calls in flight at once: lock-endpoint reads, and the guard's look at the trail. */
const PER_RECORD_CALLS_AT_ONCE = 20;

/**
 * The waiting records' write path: each record's guardedWrite joins its object's group for a short window; the group
 * reads its records' values in one query, runs the conflict guard per record, saves the write intents, sends one
 * bulk update, and stores the audit entries and settles the intents in one transaction. Read and write are seconds
 * apart at most, and a write whose process died before its audit is audited by the retry (see WriteIntents).
 */
export function createGuardedWrites(deps: GuardedWriteDeps) {
  const groups = new Map<string, Coalescer<Member, Answer>>();
  const groupOf = (object: string) => {
    let group = groups.get(object);
    if (!group) {
      group = new Coalescer<Member, Answer>({
        ...deps.window,
        maxPerGroup: MAX_ROWS_PER_UPDATE,
        keyOf: (m) => m.input.recordId,
        send: (members) => writeGroup(deps, object, members),
      });
      groups.set(object, group);
    }
    return group;
  };

  return async function guardedWrite(input: GuardedWriteInput): Promise<GuardedWriteResult> {
    return asActivityFailure(async () => {
      const context = Context.current();
      const { workflowExecution, attempt } = context.info;
      // A retry reads Vault whatever the watcher did: an earlier attempt may have left a write to audit.
      if (attempt === 1 && (await readLately(deps.store, input))) return { status: 'watched' };
      const workflowId = workflowExecution?.workflowId ?? input.recordId;
      const writeId = currentWriteId({ workflowId });
      const answer = await groupOf(input.object).submit({
        input,
        writeId,
        attempt,
        workflowId,
        cancelled: context.cancellationSignal,
      });
      if (answer.status === 'retry') throw ApplicationFailure.retryable(answer.reason, 'Vault.transient');
      return answer;
    });
  };
}

/** Whether the record was read lately enough that a timer's wake need not read it (see unlessReadSince). */
async function readLately(store: Store, input: GuardedWriteInput): Promise<boolean> {
  const { object, recordId, unlessReadSince: since, ownReadAt } = input;
  if (since === undefined) return false;
  if (await store.watchers.readSince(object, recordId, new Date(since))) return true;
  return ownReadAt !== undefined && ownReadAt >= since && (await store.watchers.covers(object));
}

async function writeGroup(deps: GuardedWriteDeps, object: string, members: Member[]): Promise<Answer[]> {
  const fields = [...new Set(members.flatMap((m) => Object.keys(m.input.desired)))];
  // A retry fences its older attempts before it reads: none of them may write on its own older read from now on.
  await deps.store.intents.enter(members);
  // Looked up before the read (the intents, the lock endpoint's answers): between the read and the write remain only
  // the guard's own look at the trail where a field differs, and the intents' statement.
  const pending = await deps.store.intents.pending(members.map((m) => m.writeId));
  const locks = await lockReads(deps, object, members);
  const read = await deps.vault.readStates(
    object,
    members.map((m) => m.input.recordId),
    fields,
  );
  const states = new Map(read.map((s) => [s.id, s]));
  const earlier = earlierWrites(deps, object, members, states, pending);
  const limit = pLimit(PER_RECORD_CALLS_AT_ONCE);
  const verdicts = await Promise.all(
    members.map((m, i) =>
      limit(async (): Promise<Verdict> => {
        const state = states.get(m.input.recordId);
        const unconfirmed = earlier.unconfirmed.get(m.writeId);
        // Neither written over nor audited: a person decides, with Vault's own audit log to tell.
        if (state && unconfirmed) {
          const values = Object.fromEntries(unconfirmed.map((f) => [f, state.values[f] ?? null]));
          return { answer: { status: 'conflict', state: state.state, fields: unconfirmed, values } };
        }
        return verdictOf(deps, m, state, locks[i]);
      }),
    ),
  );
  const answers: Answer[] = verdicts.map((v) => ('answer' in v ? v.answer : { status: 'retry', reason: 'not sent' }));
  const sent = await sendWrites(deps, object, members, verdicts, answers, new Set(pending.keys()));
  // A write an earlier attempt sent and Vault took changed the record, though this attempt had nothing left to send.
  members.forEach((m, i) => {
    const answer = answers[i];
    if (answer.status === 'written' && earlier.settled.includes(m.writeId)) answers[i] = { ...answer, changed: true };
  });
  // Answered locked or to retry: the watcher tells them again at its next tick whatever state it then reads.
  const untold = members.filter((_, i) => answers[i].status === 'locked' || answers[i].status === 'retry');
  // The audit entries and the end of the intents are stored together: a crash before leaves the intents for the
  // retry.
  await deps.store.transaction(async (tx) => {
    await tx.audit.append([...earlier.entries, ...sent.entries]);
    await tx.intents.settle([...earlier.settled, ...sent.settled]);
    await tx.watchers.untell(
      object,
      untold.map((m) => m.input.recordId),
    );
  });
  return answers;
}

/**
 * The writes an earlier attempt of these activities sent, though their answer never came back (a lost answer, a
 * process that died), as the record now shows them. A record update is atomic: where a field it changed holds its
 * value and none still holds the value from before, Vault took all of it (a field that differs was changed since,
 * by a person), and it is audited with the values Vault held before, whatever this attempt then does. Where none
 * holds its value, Vault did not take it, or a person changed all of it since. Where some hold its values and some
 * the old ones, the record cannot tell which (Vault took it and a person put some back, or Vault did not and a
 * person set some to capa-sync's values): it is `unconfirmed`, and nothing is written over it.
 */
function earlierWrites(
  deps: GuardedWriteDeps,
  object: string,
  members: Member[],
  states: Map<string, RecordState>,
  pending: Map<string, PendingIntent>,
): { entries: WriteEntry[]; settled: string[]; unconfirmed: Map<string, string[]> } {
  const found = { entries: [] as WriteEntry[], settled: [] as string[], unconfirmed: new Map<string, string[]>() };
  for (const m of members) {
    const intent = pending.get(m.writeId);
    const current = states.get(m.input.recordId)?.values;
    if (!intent || !current) continue;
    const changed = changedFields(intent.values, intent.before);
    const holding = (values: FieldValues) => changed.filter((f) => sameFieldValue(current[f], values[f]));
    const ours = holding(intent.values);
    const old = holding(intent.before);
    if (ours.length && !old.length) {
      found.entries.push(...auditedWrite(object, m, intent.values, intent.before));
      found.settled.push(m.writeId);
      continue;
    }
    if (old.length === changed.length) continue; // untouched: the retry writes it as if for the first time
    if (ours.length) found.unconfirmed.set(m.writeId, changed);
    deps.logger.warn('write not confirmed: its answer was lost and the record holds other values now', {
      ...{ recordId: m.input.recordId, workflowId: m.workflowId, writeId: m.writeId },
      fields: changed.filter((f) => !old.includes(f)),
    });
  }
  return found;
}

/** Saves the intents of the records to write, sends one bulk update, and answers each; what to store after it. */
async function sendWrites(
  deps: GuardedWriteDeps,
  object: string,
  members: Member[],
  verdicts: Verdict[],
  answers: Answer[],
  openBefore: Set<string>,
): Promise<{ entries: WriteEntry[]; settled: string[] }> {
  const toWrite = members.flatMap((m, i) => {
    const v = verdicts[i];
    return 'write' in v ? [{ m, v, i }] : [];
  });
  const none = { entries: [], settled: [] };
  if (!toWrite.length) return none;
  // Saved before the write is sent: a retry finds the values Vault held before its first attempt.
  const claimed = await deps.store.intents.claim(
    toWrite.map(({ m, v }) => ({
      ...{ writeId: m.writeId, attempt: m.attempt, recordId: m.input.recordId },
      ...{ values: v.write, before: v.before },
    })),
  );
  // An attempt Temporal gave up on (cut off, cancelled) or that a later attempt took over sends nothing.
  const sending = toWrite.filter(({ m }) => claimed.has(m.writeId) && !m.cancelled.aborted);
  for (const w of toWrite)
    if (!sending.includes(w)) answers[w.i] = { status: 'retry', reason: 'a later attempt writes this record' };
  if (!sending.length) return none;

  // Sent once: the rows of a request Vault refused (a 429, an expired session) answer retry, and read again first.
  const outcomes = await deps.vault.bulkUpdate(
    object,
    sending.map(({ m, v }) => ({ id: m.input.recordId, values: v.write })),
    { sendOnce: true },
  );
  const entries = sending.flatMap(({ m, v }, k) => {
    const status = outcomes[k].status;
    if (status !== 'updated' && status !== 'unchanged') return [];
    return auditedWrite(object, m, v.write, v.before);
  });
  sending.forEach(({ m, v, i }, k) => {
    const o = outcomes[k];
    deps.logger.info('record update', {
      ...{ recordId: m.input.recordId, batchId: m.input.batchId, workflowId: m.workflowId },
      ...{ status: o.status, errorType: o.errorType },
    });
    answers[i] =
      o.status === 'updated' || o.status === 'unchanged'
        ? { status: 'written', state: v.state, changed: entries.some((e) => e.writeId === m.writeId), stale: v.stale }
        : o.status === 'locked'
          ? { status: 'locked', state: v.state }
          : o.status === 'transient'
            ? { status: 'retry', reason: `Vault answered ${o.errorType ?? 'a transient error'}` }
            : { status: 'permanent', state: v.state, errorType: o.errorType, message: o.message };
  });
  // Settled: written and audited, or answered for good (locked, refused for good). A request Vault refused before
  // taking it settles its intent too, unless an earlier attempt left that intent open: its write may still land.
  const settles = (o: RecordWriteOutcome, writeId: string) =>
    o.status !== 'transient' || (o.errorType === NOT_SENT && !openBefore.has(writeId));
  return {
    entries,
    settled: sending.filter(({ m }, k) => settles(outcomes[k], m.writeId)).map(({ m }) => m.writeId),
  };
}

/** The audit entries of one record's write: the fields it changed, who for, and under its write id. */
function auditedWrite(object: string, m: Member, values: FieldValues, before: FieldValues): WriteEntry[] {
  const { recordId, batchId, sourceTimestamp, actor } = m.input;
  const who = actor.kind === 'operator' ? { actor: actor.operator, reason: actor.reason } : { actor: 'integration' };
  const time = new Date().toISOString();
  const common = { time, object, recordId, batchId, workflowId: m.workflowId, sourceTimestamp, writeId: m.writeId };
  return changeEntries({ ...common, ...who }, values, before);
}

/** What the lock endpoint said of a record (none: a dialect without one), or why it did not answer. */
type LockRead = LockInfo | Error | undefined;

/** The lock endpoint's answer for each member (customer dialect), once each, a few at a time. */
async function lockReads(deps: GuardedWriteDeps, object: string, members: Member[]): Promise<LockRead[]> {
  if (!deps.vault.dialect.lockEndpoint) return members.map(() => undefined);
  const limit = pLimit(PER_RECORD_CALLS_AT_ONCE);
  return Promise.all(
    members.map((m) =>
      limit(() => deps.vault.readLock(object, m.input.recordId, ONE_RECORD_LOCK_READ).catch((err: Error) => err)),
    ),
  );
}

/** One record's verdict from what Vault holds now: gone, locked, a reviewer's edit, or the values to write. */
async function verdictOf(
  deps: GuardedWriteDeps,
  m: Member,
  state: RecordState | undefined,
  lock: LockRead,
): Promise<Verdict> {
  if (!state) return { answer: { status: 'not-found' } };
  if (isLockedState(deps.vault.dialect, state.state)) return { answer: { status: 'locked', state: state.state } };
  if (lock instanceof Error) return { answer: { status: 'retry', reason: `lock endpoint: ${lock.message}` } };
  if (lock?.locked) {
    const { lockedBy, lockedSince } = lock;
    return { answer: { status: 'locked', state: state.state, lockedBy, lockedSince } };
  }
  const { input } = m;
  // Only the fields that differ from the read are sent: one that already holds its value is left alone, so an edit
  // of it in the moment before the update lands is not overwritten unaudited.
  const toWrite = (skip: string[]): Verdict => {
    const write = Object.fromEntries(
      Object.entries(input.desired).filter(([f, v]) => !skip.includes(f) && !sameFieldValue(state.values[f], v)),
    );
    if (!Object.keys(write).length)
      return { answer: { status: 'written', state: state.state, changed: false, stale: skip } };
    const before = Object.fromEntries(Object.keys(write).map((f) => [f, state.values[f] ?? null]));
    return { write, before, state: state.state, stale: skip };
  };
  if (input.actor.kind === 'operator') return toWrite([]);
  let conflicts = conflictingFields(state.values, input.baseline, input.desired);
  let stale: string[] = [];
  if (conflicts.length) {
    // A value capa-sync itself wrote after the baseline was read is ours, not a reviewer's; where it came from a
    // newer source than these values, these are stale and are not written.
    const written = await deps.store.audit.lastOwnWrites(input.object, input.recordId, conflicts, input.ownWritesSince);
    const { ours, newer } = ownWrites(conflicts, state.values, written, input.sourceTimestamp);
    stale = newer;
    conflicts = conflicts.filter((f) => !ours.includes(f));
  }
  if (conflicts.length) {
    const values = Object.fromEntries(conflicts.map((f) => [f, state.values[f] ?? null]));
    return { answer: { status: 'conflict', state: state.state, fields: conflicts, values } };
  }
  return toWrite(stale);
}
